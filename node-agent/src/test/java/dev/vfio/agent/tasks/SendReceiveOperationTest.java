package dev.vfio.agent.tasks;

import static dev.vfio.agent.tasks.TaskFixture.failure;
import static dev.vfio.agent.tasks.TaskFixture.pair;
import static dev.vfio.agent.vfio.MigrationState.RUNNING;
import static dev.vfio.agent.vfio.MigrationState.STOP;
import static dev.vfio.agent.vfio.MigrationState.STOP_COPY;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vfio.agent.pods.PodRef;
import dev.vfio.agent.sim.SimulatedDeviceSpec;
import dev.vfio.agent.sim.SimulatedFaults;
import dev.vfio.agent.vfio.Errno;
import dev.vfio.agent.vfio.MigrationFlags;
import dev.vfio.api.v1alpha1.DeviceMapping;
import dev.vfio.api.v1alpha1.Reason;
import dev.vfio.api.v1alpha1.Stage;
import dev.vfio.api.v1alpha1.TaskEndpoint;
import dev.vfio.api.v1alpha1.TaskOperation;
import dev.vfio.api.v1alpha1.TaskPhase;
import dev.vfio.api.v1alpha1.VfioNodeTaskSpec;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Send and Receive against each other: a live migration between two pods of one simulated node, the
 * test in the operator's role for the switchover. Longer than most: every way the two sides end is
 * here, next to the others.
 */
class SendReceiveOperationTest {
  static final String SOURCE_A = "0000:3b:00.0";
  static final String SOURCE_B = "0000:3b:00.1";
  static final String TARGET_A = "0000:af:00.0";
  static final String TARGET_B = "0000:af:00.1";
  static final String TOKEN = "d3b07384d113edec49eaa6238ad5ff00";
  static final long BYTES = 2 << 20;
  static final List<DeviceMapping> PAIRS =
      List.of(pair(SOURCE_A, TARGET_A), pair(SOURCE_B, TARGET_B));

  @TempDir Path directory;
  @AutoClose TaskFixture node;
  final ExecutorService sides = Executors.newFixedThreadPool(2);
  PodRef source;
  PodRef target;

  @BeforeEach
  void createNode() throws Exception {
    MigrationFlags preCopy =
        new MigrationFlags(MigrationFlags.STOP_COPY | MigrationFlags.P2P | MigrationFlags.PRE_COPY);
    node =
        TaskFixture.create(
            directory,
            SimulatedDeviceSpec.of(SOURCE_A, BYTES),
            SimulatedDeviceSpec.of(SOURCE_B, BYTES / 2)
                .withFlags(preCopy)
                .withDirtyBytesPerRound(4096),
            SimulatedDeviceSpec.of(TARGET_A, BYTES),
            SimulatedDeviceSpec.of(TARGET_B, BYTES / 2).withFlags(preCopy));
    source = node.pod("source", SOURCE_A, SOURCE_B);
    target = node.pod("target", TARGET_A, TARGET_B);
  }

  @AfterEach
  void stopReceiver() throws Exception {
    sides.shutdownNow();
    assertTrue(sides.awaitTermination(30, TimeUnit.SECONDS));
  }

  RecordedTask receiveTask(List<String> devices, List<DeviceMapping> map) {
    return node.task(
        TaskOperation.Receive,
        target,
        spec -> {
          spec.setDevices(devices);
          spec.setDeviceMap(map);
          spec.setToken(TOKEN);
          spec.setPeerNode(TaskFixture.NODE);
        });
  }

  RecordedTask sendTask(TaskEndpoint endpoint, List<String> devices, List<DeviceMapping> map) {
    return node.task(
        TaskOperation.Send,
        source,
        spec -> {
          spec.setDevices(devices);
          spec.setDeviceMap(map);
          spec.setToken(TOKEN);
          spec.setPeerNode(TaskFixture.NODE);
          spec.setEndpoint(endpoint);
        });
  }

  /** An endpoint no receiver listens on: a send refused before it connects never notices. */
  static TaskEndpoint nowhere() {
    TaskEndpoint endpoint = new TaskEndpoint();
    endpoint.setHost("127.0.0.1");
    endpoint.setPort(9);
    return endpoint;
  }

  /** Starts the Receive task; the future holds its failure, or null when it succeeded. */
  CompletableFuture<TaskFailure> receiving(RecordedTask task) {
    return running(node.receive(), task);
  }

  /** Runs {@code operation} on the other threads; the future holds its failure, or null. */
  CompletableFuture<TaskFailure> running(NodeOperation operation, RecordedTask task) {
    return CompletableFuture.supplyAsync(
        () -> {
          try {
            operation.run(task.context);
            return null;
          } catch (TaskFailure failure) {
            return failure;
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
          }
        },
        sides);
  }

  /** A Receive of both devices, listening; the Send task that goes with it. */
  record Migration(
      RecordedTask receive, CompletableFuture<TaskFailure> received, RecordedTask send) {
    TaskFailure receiveOutcome() throws Exception {
      return received.get(60, TimeUnit.SECONDS);
    }
  }

  Migration migration() {
    RecordedTask receive = receiveTask(List.of(TARGET_A, TARGET_B), PAIRS);
    CompletableFuture<TaskFailure> received = receiving(receive);
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> receive.endpoint() != null || received.isDone());
    return new Migration(
        receive, received, sendTask(receive.endpoint(), List.of(SOURCE_A, SOURCE_B), PAIRS));
  }

  /** Both sides waiting for the operator's decision: the Send at Sent, the Receive at Loaded. */
  record Waiting(Migration migration, CompletableFuture<TaskFailure> sent) {
    RecordedTask send() {
      return migration.send();
    }

    RecordedTask receive() {
      return migration.receive();
    }

    TaskFailure sendOutcome() throws Exception {
      return sent.get(60, TimeUnit.SECONDS);
    }

    TaskFailure receiveOutcome() throws Exception {
      return migration.receiveOutcome();
    }
  }

  Waiting atSwitchover() {
    Migration migration = migration();
    CompletableFuture<TaskFailure> sent = running(node.send(), migration.send());
    awaitStage(migration.send(), Stage.Sent);
    awaitStage(migration.receive(), Stage.Loaded);
    return new Waiting(migration, sent);
  }

  static void awaitStage(RecordedTask task, Stage stage) {
    await(stage.name())
        .atMost(Duration.ofSeconds(60))
        .until(() -> task.last() != null && task.last().getStage() == stage);
  }

  /** What every failed migration must leave: both sides running, the source thawed, no journal. */
  void assertBothSidesRolledBack() throws Exception {
    node.assertState(RUNNING, SOURCE_A, SOURCE_B, TARGET_A, TARGET_B);
    assertFalse(node.frozen(source), "source thawed");
    assertEquals(List.of(), node.journaled());
  }

  @Test
  void theTargetRunsTheSourceStateAndTheSourceStaysStopped() throws Exception {
    Waiting waiting = atSwitchover();

    waiting.send().commit();
    waiting.receive().commit();

    assertNull(waiting.sendOutcome());
    assertNull(waiting.receiveOutcome());
    assertEquals(TaskPhase.Succeeded, waiting.send().last().getPhase());
    assertEquals(TaskPhase.Succeeded, waiting.receive().last().getPhase());
    assertEquals(node.device(SOURCE_A).content(), node.device(TARGET_A).content());
    assertEquals(node.device(SOURCE_B).content(), node.device(TARGET_B).content());
    node.assertState(RUNNING, TARGET_A, TARGET_B);
    node.assertState(STOP, SOURCE_A, SOURCE_B);
    assertTrue(node.frozen(source), "the source never runs again after its state moved");
    assertEquals(List.of(), node.journaled());
  }

  @Test
  void aSendWhoseReceiverIsNotThePeerNodesAgentFailsPeerIdentityMismatchAndSendsNothing()
      throws Exception {
    RecordedTask receive = receiveTask(List.of(TARGET_A, TARGET_B), PAIRS);
    CompletableFuture<TaskFailure> received = receiving(receive);
    await().atMost(Duration.ofSeconds(30)).until(() -> receive.endpoint() != null);
    // The listener's certificate names node-a; the task says the state goes to node-b.
    RecordedTask send =
        node.task(
            TaskOperation.Send,
            source,
            spec -> {
              spec.setDevices(List.of(SOURCE_A, SOURCE_B));
              spec.setDeviceMap(PAIRS);
              spec.setToken(TOKEN);
              spec.setPeerNode("node-b");
              spec.setEndpoint(receive.endpoint());
            });

    TaskFailure failure = running(node.send(), send).get(60, TimeUnit.SECONDS);

    assertEquals(Reason.PEER_IDENTITY_MISMATCH, failure.reason());
    assertTrue(failure.getMessage().contains("not of node node-b"), failure.getMessage());
    receive.cancel();
    assertEquals(Reason.CANCELLED, received.get(60, TimeUnit.SECONDS).reason());
    assertBothSidesRolledBack();
  }

  @Test
  void aReceiveContactedByAnotherNodesAgentFailsPeerIdentityMismatchAndRollsBack()
      throws Exception {
    // The Receive expects the state from node-b; the sender's certificate names node-a.
    RecordedTask receive =
        node.task(
            TaskOperation.Receive,
            target,
            spec -> {
              spec.setDevices(List.of(TARGET_A, TARGET_B));
              spec.setDeviceMap(PAIRS);
              spec.setToken(TOKEN);
              spec.setPeerNode("node-b");
            });
    CompletableFuture<TaskFailure> received = receiving(receive);
    await().atMost(Duration.ofSeconds(30)).until(() -> receive.endpoint() != null);

    TaskFailure sent =
        running(node.send(), sendTask(receive.endpoint(), List.of(SOURCE_A, SOURCE_B), PAIRS))
            .get(60, TimeUnit.SECONDS);
    TaskFailure refused = received.get(60, TimeUnit.SECONDS);

    assertEquals(Reason.PEER_IDENTITY_MISMATCH, refused.reason());
    assertTrue(
        refused.getMessage().contains("certificate of node node-a, not of node node-b"),
        refused.getMessage());
    assertEquals(Reason.TRANSFER_FAILED, sent.reason(), "the receiver cut the sender off");
    assertBothSidesRolledBack();
  }

  @Test
  void neitherSideRunsTheStateUntilTheOperatorDecides() throws Exception {
    Waiting waiting = atSwitchover();

    node.assertState(STOP, SOURCE_A, SOURCE_B, TARGET_A, TARGET_B);
    assertTrue(node.frozen(source), "the source waits frozen");
    assertFalse(waiting.sent().isDone(), "the Send waits for the decision");
    assertFalse(waiting.migration().received().isDone(), "the Receive waits for the decision");
    assertEquals(2, node.journaled().size(), "both sides are journaled while they wait");
  }

  @Test
  void cancelledWhileWaitingBothSidesEndFirstThenRollBack() throws Exception {
    Waiting waiting = atSwitchover();

    waiting.receive().cancel();
    waiting.send().cancel();

    assertEquals(Reason.CANCELLED, waiting.receiveOutcome().reason());
    assertEquals(Reason.CANCELLED, waiting.sendOutcome().reason());
    assertEquals(TaskPhase.Cancelled, waiting.send().store.stored().getStatus().getPhase());
    assertEquals(TaskPhase.Cancelled, waiting.receive().store.stored().getStatus().getPhase());
    assertBothSidesRolledBack();
    assertNotEquals(
        node.device(SOURCE_A).content(),
        node.device(TARGET_A).content(),
        "the target was reset, not run");
  }

  @Test
  void aCommitStoredBeforeTheCancelWinsOverIt() throws Exception {
    Waiting waiting = atSwitchover();

    // The operator's Commit reached the API server, but the agents' watches have not shown it
    // yet when the cancel arrives: each side's conditional ending fails, and it reads the Commit.
    waiting.send().store.commit();
    waiting.receive().store.commit();
    waiting.send().cancel();
    waiting.receive().cancel();

    assertNull(waiting.sendOutcome());
    assertNull(waiting.receiveOutcome());
    assertEquals(TaskPhase.Succeeded, waiting.send().store.stored().getStatus().getPhase());
    assertEquals(TaskPhase.Succeeded, waiting.receive().store.stored().getStatus().getPhase());
    node.assertState(STOP, SOURCE_A, SOURCE_B);
    node.assertState(RUNNING, TARGET_A, TARGET_B);
    assertEquals(node.device(SOURCE_A).content(), node.device(TARGET_A).content());
  }

  @Test
  void aSendWhoseTaskIsGoneKeepsTheSourceStopped() throws Exception {
    Waiting waiting = atSwitchover();

    waiting.send().store.delete();
    // What the agent's watch does when its task is deleted.
    waiting.send().context.requestCancel();

    TaskFailure sent = waiting.sendOutcome();
    assertTrue(sent.getMessage().contains("the source stays stopped"), sent.getMessage());
    node.assertState(STOP, SOURCE_A, SOURCE_B);
    assertTrue(node.frozen(source));
  }

  @Test
  void aSourceDeviceErrorFailsBothSidesAndRollsThemBack() throws Exception {
    node.device(SOURCE_A)
        .setFaults(SimulatedFaults.NONE.withArcFault(STOP, STOP_COPY, Errno.EIO, true));
    Migration migration = migration();

    TaskFailure sent = failure(node.send(), migration.send());

    assertEquals(Reason.DEVICE_ERROR, sent.reason());
    assertEquals(Reason.TRANSFER_FAILED, migration.receiveOutcome().reason());
    assertBothSidesRolledBack();
  }

  @Test
  void aTargetThatRejectsTheStateFailsStateRejectedAndTheSourceRunsAgain() throws Exception {
    node.device(TARGET_B).setFaults(SimulatedFaults.NONE.withRejectedResumeData());
    Migration migration = migration();
    CompletableFuture<TaskFailure> sent = running(node.send(), migration.send());

    assertEquals(Reason.STATE_REJECTED, migration.receiveOutcome().reason());
    cancelOnceWaiting(migration.send(), sent);

    assertTrue(
        Set.of(Reason.CANCELLED, Reason.TRANSFER_FAILED).contains(sent.get().reason()),
        sent.get()::toString);
    assertBothSidesRolledBack();
  }

  @Test
  void aTargetThatRefusesTheStateOnWriteFailsStateRejected() throws Exception {
    node.device(TARGET_A)
        .setFaults(SimulatedFaults.NONE.withResumeWritesRefusedAfter(BYTES / 4, Errno.ENOSPC));
    Migration migration = migration();
    CompletableFuture<TaskFailure> sent = running(node.send(), migration.send());

    TaskFailure received = migration.receiveOutcome();
    assertEquals(Reason.STATE_REJECTED, received.reason());
    assertTrue(received.getMessage().contains(TARGET_A), received.getMessage());
    cancelOnceWaiting(migration.send(), sent);

    assertTrue(
        Set.of(Reason.CANCELLED, Reason.TRANSFER_FAILED).contains(sent.get().reason()),
        sent.get()::toString);
    assertBothSidesRolledBack();
  }

  /**
   * What the operator does once the target failed: cancels the Send, which by then either failed on
   * the broken streams or, with everything sent, waits at Sent.
   */
  static void cancelOnceWaiting(RecordedTask send, CompletableFuture<TaskFailure> sent) {
    await("send failed or waiting")
        .atMost(Duration.ofSeconds(60))
        .until(
            () -> sent.isDone() || (send.last() != null && send.last().getStage() == Stage.Sent));
    send.cancel();
    await("send ended").atMost(Duration.ofSeconds(60)).until(sent::isDone);
  }

  @Test
  void cancellingTheSendMidStreamRollsBothSidesBack() throws Exception {
    Migration migration = migration();
    RecordedTask send = migration.send();
    send.when(
        status -> status.getBytesDone() != null && status.getBytesDone() > 0,
        send.context::requestCancel);

    TaskFailure sent = failure(node.send(), send);

    assertEquals(Reason.CANCELLED, sent.reason());
    assertEquals(Reason.TRANSFER_FAILED, migration.receiveOutcome().reason());
    assertBothSidesRolledBack();
  }

  @Test
  void cancellingTheReceiveWhileItWaitsResetsTheTargets() throws Exception {
    RecordedTask receive = receiveTask(List.of(TARGET_A, TARGET_B), PAIRS);
    receive.when(status -> status.getEndpoint() != null, receive.context::requestCancel);

    TaskFailure failure = failure(node.receive(), receive);

    assertEquals(Reason.CANCELLED, failure.reason());
    node.assertState(RUNNING, TARGET_A, TARGET_B);
    assertEquals(List.of(), node.journaled());
  }

  @Test
  void aStatusWriteThatFailsWithTheTargetsResumingRollsThemBack() throws Exception {
    RecordedTask receive =
        receiveTask(List.of(TARGET_A, TARGET_B), PAIRS)
            .refuseWritesWhen(status -> status.getEndpoint() != null);

    TaskFailure failure = failure(node.receive(), receive);

    assertEquals(Reason.DEVICE_ERROR, failure.reason());
    node.assertState(RUNNING, TARGET_A, TARGET_B);
    assertEquals(List.of(), node.journaled());
  }

  @Test
  void aTargetNamedTwiceFailsTheSendInvalidSpecBeforeAnySourceStops() throws Exception {
    long before = node.epoch(SOURCE_A);

    TaskFailure failure =
        failure(
            node.send(),
            sendTask(
                nowhere(),
                List.of(SOURCE_A, SOURCE_B),
                List.of(pair(SOURCE_A, TARGET_A), pair(SOURCE_B, TARGET_A))));

    assertEquals(Reason.INVALID_SPEC, failure.reason());
    assertTrue(
        failure.getMessage().contains("target device " + TARGET_A + " twice"),
        failure.getMessage());
    assertEquals(before, node.epoch(SOURCE_A), "no source device went to STOP_COPY");
    assertEquals(List.of(), node.freezes, "the source pod was never frozen");
  }

  @Test
  void aSourceNamedTwiceFailsTheSendInvalidSpecBeforeAnySourceStops() throws Exception {
    long before = node.epoch(SOURCE_A);

    TaskFailure failure =
        failure(
            node.send(),
            sendTask(
                nowhere(),
                List.of(SOURCE_A),
                List.of(pair(SOURCE_A, TARGET_A), pair(SOURCE_A, TARGET_B))));

    assertEquals(Reason.INVALID_SPEC, failure.reason());
    assertTrue(
        failure.getMessage().contains("source device " + SOURCE_A + " twice"),
        failure.getMessage());
    assertEquals(before, node.epoch(SOURCE_A));
    assertEquals(List.of(), node.freezes);
  }

  @Test
  void aTargetNamedTwiceFailsTheReceiveInvalidSpecBeforeAnyTargetResumes() throws Exception {
    long before = node.epoch(TARGET_A);

    TaskFailure failure =
        failure(
            node.receive(),
            receiveTask(List.of(TARGET_A, TARGET_A), List.of(pair(SOURCE_A, TARGET_A))));

    assertEquals(Reason.INVALID_SPEC, failure.reason());
    assertTrue(failure.getMessage().contains(TARGET_A + " twice"), failure.getMessage());
    assertEquals(before, node.epoch(TARGET_A), "no target went to RESUMING");
  }

  @Test
  void aTargetThatWithdrewItsOptInFailsTheReceiveTargetNotOptedInBeforeItListens()
      throws Exception {
    RecordedTask receive = receiveTask(List.of(TARGET_A, TARGET_B), PAIRS);
    node.withdrawOptIn(target);

    // Bounded: a receiver that wrongly listens would wait for a sender that never comes.
    TaskFailure failure = receiving(receive).get(60, TimeUnit.SECONDS);

    assertEquals(Reason.TARGET_NOT_OPTED_IN, failure.reason());
    assertNull(receive.endpoint(), "no endpoint published");
    node.assertState(RUNNING, TARGET_A, TARGET_B);
    assertEquals(List.of(), node.journaled());
  }

  /**
   * A migration whose sender stalls once half the state is out, its streams kept alive: the
   * receiver's copies wait on them with nothing to check. {@code receiveSpec} completes the
   * receive's spec; the sender goes on once {@code release} is counted down.
   */
  record StalledMigration(
      RecordedTask receive,
      CompletableFuture<TaskFailure> received,
      CompletableFuture<TaskFailure> sent,
      CountDownLatch release) {}

  StalledMigration stalledMigration(Consumer<VfioNodeTaskSpec> receiveSpec) {
    RecordedTask receive =
        node.task(
            TaskOperation.Receive,
            target,
            spec -> {
              spec.setDevices(List.of(TARGET_A, TARGET_B));
              spec.setDeviceMap(PAIRS);
              spec.setToken(TOKEN);
              spec.setPeerNode(TaskFixture.NODE);
              receiveSpec.accept(spec);
            });
    CompletableFuture<TaskFailure> received = receiving(receive);
    await().atMost(Duration.ofSeconds(30)).until(() -> receive.endpoint() != null);
    RecordedTask send = sendTask(receive.endpoint(), List.of(SOURCE_A, SOURCE_B), PAIRS);
    CountDownLatch release = new CountDownLatch(1);
    send.when(
        status -> status.getBytesDone() != null && status.getBytesDone() > BYTES / 2,
        () -> awaitQuietly(release));
    CompletableFuture<TaskFailure> sent = running(node.send(), send);
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> receive.last().getBytesDone() != null && receive.last().getBytesDone() > 0);
    return new StalledMigration(receive, received, sent, release);
  }

  @Test
  void cancellingAReceiveWhoseCopiesWaitOnAStalledSenderResetsTheTargets() throws Exception {
    StalledMigration migration = stalledMigration(spec -> {});

    migration.receive().context.requestCancel();

    assertReceiveEndedThenBothRolledBack(migration, Reason.CANCELLED);
  }

  @Test
  void theDeadlineOfAReceiveWhoseCopiesWaitOnAStalledSenderResetsTheTargets() throws Exception {
    StalledMigration migration =
        stalledMigration(
            spec -> spec.setDeadline(Instant.now().plus(Duration.ofSeconds(3)).toString()));

    assertReceiveEndedThenBothRolledBack(migration, Reason.TIMEOUT);
  }

  /**
   * The receive ends for {@code reason} with its targets reset while the sender still stalls;
   * released, the sender fails too, and both sides are as before.
   */
  void assertReceiveEndedThenBothRolledBack(StalledMigration migration, Reason reason)
      throws Exception {
    assertEquals(reason, migration.received().get(60, TimeUnit.SECONDS).reason());
    node.assertState(RUNNING, TARGET_A, TARGET_B);
    migration.release().countDown();
    assertNotNull(migration.sent().get(60, TimeUnit.SECONDS));
    assertBothSidesRolledBack();
  }

  static void awaitQuietly(CountDownLatch latch) {
    try {
      latch.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
