package dev.vfio.operator.migration;

import static dev.vfio.operator.migration.Fixtures.LATE;
import static dev.vfio.operator.migration.Fixtures.NOW;
import static dev.vfio.operator.migration.Fixtures.STARTED;
import static dev.vfio.operator.migration.Fixtures.cancelled;
import static dev.vfio.operator.migration.Fixtures.created;
import static dev.vfio.operator.migration.Fixtures.readyReason;
import static dev.vfio.operator.migration.Fixtures.running;
import static dev.vfio.operator.migration.Fixtures.task;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vfio.api.v1alpha1.MigrationPhase;
import dev.vfio.api.v1alpha1.PrecopySpec;
import dev.vfio.api.v1alpha1.QuiesceMode;
import dev.vfio.api.v1alpha1.Reason;
import dev.vfio.api.v1alpha1.SourceState;
import dev.vfio.api.v1alpha1.Stage;
import dev.vfio.api.v1alpha1.SwitchoverDecision;
import dev.vfio.api.v1alpha1.TaskEndpoint;
import dev.vfio.api.v1alpha1.TaskOperation;
import dev.vfio.api.v1alpha1.TaskPhase;
import dev.vfio.api.v1alpha1.VfioMigrationStatus;
import dev.vfio.api.v1alpha1.VfioNodeTask;
import dev.vfio.api.v1alpha1.VfioNodeTaskSpec;
import dev.vfio.operator.reconcile.Plan;
import dev.vfio.operator.tasks.TaskAction;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class LiveFlowTest {
  /** The agent pod of node-b is at the endpoint's host; node-a's at another IP. */
  static final LiveFlow.AgentAddresses AGENTS =
      node -> node.equals("node-b") ? Set.of("10.0.0.2") : Set.of("10.0.0.1");

  final LiveFlow flow = new LiveFlow(Fixtures.steps(Fixtures.bothPods()), () -> "token-1", AGENTS);

  @Test
  void aLiveMigrationStartsWithAReceiverBoundToATokenAndABudget() {
    Plan<VfioMigrationStatus> started = flow.start(Fixtures.live(), Fixtures.livePlan(), STARTED);

    VfioNodeTaskSpec receive = created(started, LiveFlow.RECEIVE);
    assertEquals(TaskOperation.Receive, receive.getOperation());
    assertEquals("node-b", receive.getNodeName());
    assertEquals("target-uid", receive.getPodUid());
    assertEquals("token-1", receive.getToken());
    assertEquals("node-a", receive.getPeerNode(), "only the source's agent may send");
    // Every PRE_COPY round (5 unless the spec says otherwise) may resend the whole state, STOP_COPY
    // once more.
    assertEquals(
        (1L << 20) * (PrecopySpec.DEFAULT_MAX_ROUNDS + 2) + (256L << 20), receive.getByteBudget());
    assertEquals(1, started.tasks().size(), "the sender waits for the receiver's endpoint");
  }

  @Test
  void onceTheReceiverListensTheSenderIsCreatedWithItsEndpointAndToken() {
    VfioNodeTask receive = receive(TaskPhase.Running);
    receive.getStatus().setEndpoint(endpoint());
    receive.getSpec().setToken("token-1");

    Plan<VfioMigrationStatus> next =
        flow.follow(running(Fixtures.live()), Map.of(LiveFlow.RECEIVE, receive), NOW);

    VfioNodeTaskSpec send = created(next, LiveFlow.SEND);
    assertEquals("node-a", send.getNodeName());
    assertEquals("source-uid", send.getPodUid());
    assertEquals(List.of("0000:3b:00.0"), send.getDevices());
    assertEquals("token-1", send.getToken());
    assertEquals(9443, send.getEndpoint().getPort());
    assertEquals(QuiesceMode.Freeze, send.getQuiesce(), "the API's default");
    assertEquals(receive.getSpec().getDeadline(), send.getDeadline());
    assertEquals("node-b", send.getPeerNode(), "only the target's agent may receive");
  }

  @Test
  void anEndpointThatIsNotTheTargetAgentPodsIpFailsTheMigrationWithoutASender() {
    VfioNodeTask receive = receive(TaskPhase.Running);
    receive.getStatus().setEndpoint(endpoint());
    receive.getStatus().getEndpoint().setHost("10.0.0.66");
    receive.getSpec().setToken("token-1");

    Plan<VfioMigrationStatus> next =
        flow.follow(running(Fixtures.live()), Map.of(LiveFlow.RECEIVE, receive), NOW);

    assertEquals(List.of("mig-receive"), cancelled(next));
    assertEquals(1, next.tasks().size(), "no Send is created towards that address");
    assertEquals(Stage.RollingBack, next.status().getStage());
    assertEquals(Reason.ENDPOINT_MISMATCH.wire(), readyReason(next));
  }

  @Test
  void noSenderIsCreatedBeforeTheReceiverListens() {
    Plan<VfioMigrationStatus> next =
        flow.follow(
            running(Fixtures.live()), Map.of(LiveFlow.RECEIVE, receive(TaskPhase.Running)), NOW);

    assertEquals(List.of(), next.tasks());
    assertEquals(FlowSteps.POLL, next.requeue());
  }

  @Test
  void aFailedSenderCancelsTheReceiverAndTheMigrationRollsBackWithTheSendersReason() {
    VfioNodeTask send =
        task(
            LiveFlow.SEND,
            TaskOperation.Send,
            "node-a",
            "source-uid",
            TaskPhase.Failed,
            status -> status.setReason(Reason.DEVICE_ERROR.wire()));

    Plan<VfioMigrationStatus> next =
        flow.follow(
            running(Fixtures.live()),
            Map.of(LiveFlow.RECEIVE, receive(TaskPhase.Running), LiveFlow.SEND, send),
            NOW);

    assertEquals(
        List.of("mig-receive"), cancelled(next), "the failed sender has nothing left to cancel");
    assertEquals(Stage.RollingBack, next.status().getStage());
    assertEquals(Reason.DEVICE_ERROR.wire(), readyReason(next));
    assertEquals(
        MigrationPhase.Running, next.status().getPhase(), "not over until both sides rolled back");
  }

  @Test
  void onceBothSidesEndedTheMigrationFailsWithTheReasonOfTheSideThatFailed() {
    VfioNodeTask send =
        task(
            LiveFlow.SEND,
            TaskOperation.Send,
            "node-a",
            "source-uid",
            TaskPhase.Failed,
            status -> status.setReason(Reason.DEVICE_ERROR.wire()));

    Plan<VfioMigrationStatus> next =
        flow.follow(
            running(Fixtures.live()),
            Map.of(LiveFlow.RECEIVE, receive(TaskPhase.Cancelled), LiveFlow.SEND, send),
            NOW);

    assertEquals(MigrationPhase.Failed, next.status().getPhase());
    assertEquals(Reason.DEVICE_ERROR.wire(), readyReason(next));
    assertEquals(List.of(), next.tasks());
  }

  @Test
  void bothSidesSucceededEndsSucceededWithTheDowntimeFromSourceStopToTargetRunning() {
    VfioNodeTask send =
        task(
            LiveFlow.SEND,
            TaskOperation.Send,
            "node-a",
            "source-uid",
            TaskPhase.Succeeded,
            status -> {
              status.setStoppedAt(NOW.toString());
              status.setBytesDone(4096L);
            });
    committed(send);
    VfioNodeTask receive =
        task(
            LiveFlow.RECEIVE,
            TaskOperation.Receive,
            "node-b",
            "target-uid",
            TaskPhase.Succeeded,
            status -> status.setResumedAt(NOW.plusMillis(120).toString()));
    committed(receive);

    Plan<VfioMigrationStatus> next =
        flow.follow(
            running(Fixtures.live()),
            Map.of(LiveFlow.RECEIVE, receive, LiveFlow.SEND, send),
            NOW.plusSeconds(1));

    assertEquals(MigrationPhase.Succeeded, next.status().getPhase());
    assertEquals(120L, next.status().getDowntimeMillis());
    assertEquals(4096L, next.status().getBytesTransferred());
    assertEquals(120L, next.ending().downtimeMillis());
  }

  @Test
  void aSenderWhoseReceiverIsGoneIsCancelledAndTheMigrationFailsTaskLost() {
    VfioNodeTask send =
        task(LiveFlow.SEND, TaskOperation.Send, "node-a", "source-uid", TaskPhase.Running);

    Plan<VfioMigrationStatus> next =
        flow.follow(running(Fixtures.live()), Map.of(LiveFlow.SEND, send), NOW);

    assertEquals(MigrationPhase.Failed, next.status().getPhase());
    assertEquals(Reason.TASK_LOST.wire(), readyReason(next));
    assertEquals(List.of("mig-send"), cancelled(next));
  }

  @Test
  void pastTheDeadlineNoSenderIsStartedAndTheReceiverIsCancelled() {
    VfioNodeTask receive = receive(TaskPhase.Running);
    receive.getStatus().setEndpoint(endpoint());

    Plan<VfioMigrationStatus> next =
        flow.follow(running(Fixtures.live()), Map.of(LiveFlow.RECEIVE, receive), LATE);

    assertEquals(List.of("mig-receive"), cancelled(next));
    assertEquals(1, next.tasks().size(), "no Send for a migration rolling back");
    assertEquals(Reason.TIMEOUT.wire(), readyReason(next));
    assertNull(next.ending());
  }

  @Test
  void aReceiverOnALostNodeFailsTheMigrationNodeLostWithoutCancellingTheSender() {
    LiveFlow silentTarget =
        new LiveFlow(
            Fixtures.steps(Fixtures.bothPods(), Fixtures.nodeBSilentSinceStart()),
            () -> "token-1",
            AGENTS);
    VfioNodeTask send =
        task(LiveFlow.SEND, TaskOperation.Send, "node-a", "source-uid", TaskPhase.Running);

    Plan<VfioMigrationStatus> next =
        silentTarget.follow(
            running(Fixtures.live()),
            Map.of(LiveFlow.RECEIVE, receive(TaskPhase.Running), LiveFlow.SEND, send),
            Fixtures.SILENT_TOO_LONG);

    assertEquals(MigrationPhase.Failed, next.status().getPhase());
    assertEquals(Reason.NODE_LOST.wire(), readyReason(next));
    assertEquals(List.of(), next.tasks(), "whether the source resumes is not decided on a silence");
  }

  @Test
  void withBothSidesWaitingOnlyTheSourceIsCommittedFirst() {
    Plan<VfioMigrationStatus> next =
        flow.follow(
            running(Fixtures.live()),
            Map.of(
                LiveFlow.RECEIVE, at(receive(TaskPhase.Running), Stage.Loaded),
                LiveFlow.SEND, at(send(TaskPhase.Running), Stage.Sent)),
            NOW);

    assertEquals(List.of("mig-send"), commits(next));
    assertEquals(MigrationPhase.Running, next.status().getPhase());
  }

  @Test
  void nothingIsCommittedWhileOneSideStillMovesTheState() {
    Plan<VfioMigrationStatus> next =
        flow.follow(
            running(Fixtures.live()),
            Map.of(
                LiveFlow.RECEIVE, at(receive(TaskPhase.Running), Stage.Receiving),
                LiveFlow.SEND, at(send(TaskPhase.Running), Stage.Sent)),
            NOW);

    assertEquals(List.of(), commits(next));
  }

  @Test
  void aCommittedSourceHasItsTargetCommittedNextAlsoAfterARestart() {
    Plan<VfioMigrationStatus> next =
        flow.follow(
            running(Fixtures.live()),
            Map.of(
                LiveFlow.RECEIVE, at(receive(TaskPhase.Running), Stage.Loaded),
                LiveFlow.SEND, committed(at(send(TaskPhase.Running), Stage.Sent))),
            NOW);

    assertEquals(List.of("mig-receive"), commits(next));
    assertEquals(List.of(), cancelled(next));
  }

  @Test
  void afterTheCommitPointTheDeadlineCancelsNothing() {
    Plan<VfioMigrationStatus> next =
        flow.follow(
            running(Fixtures.live()),
            Map.of(
                LiveFlow.RECEIVE, committed(at(receive(TaskPhase.Running), Stage.Loaded)),
                LiveFlow.SEND, committed(at(send(TaskPhase.Running), Stage.Sent))),
            LATE);

    assertEquals(List.of(), next.tasks());
    assertEquals(MigrationPhase.Running, next.status().getPhase());
  }

  @Test
  void aTargetThatFailedAfterTheCommitPointHasTheSourceResumed() {
    VfioNodeTask receive = failedAfterTheCommit();

    Plan<VfioMigrationStatus> next =
        flow.follow(
            running(Fixtures.live()),
            Map.of(LiveFlow.RECEIVE, receive, LiveFlow.SEND, committed(send(TaskPhase.Running))),
            NOW);

    VfioNodeTaskSpec resume = created(next, LiveFlow.RESUME);
    assertEquals(TaskOperation.Resume, resume.getOperation());
    assertEquals("node-a", resume.getNodeName());
    assertEquals("source-uid", resume.getPodUid());
    assertEquals(Stage.RollingBack, next.status().getStage());
    assertEquals(MigrationPhase.Running, next.status().getPhase(), "not over until it resumed");
  }

  @Test
  void onceTheSourceResumedTheMigrationFailsWithTheTargetsReason() {
    VfioNodeTask receive = failedAfterTheCommit();
    VfioNodeTask resume =
        task(LiveFlow.RESUME, TaskOperation.Resume, "node-a", "source-uid", TaskPhase.Succeeded);

    Plan<VfioMigrationStatus> next =
        flow.follow(
            running(Fixtures.live()),
            Map.of(
                LiveFlow.RECEIVE,
                receive,
                LiveFlow.SEND,
                committed(send(TaskPhase.Succeeded)),
                LiveFlow.RESUME,
                resume),
            NOW);

    assertEquals(MigrationPhase.Failed, next.status().getPhase());
    assertEquals(Reason.DEVICE_ERROR.wire(), readyReason(next));
    assertTrue(
        next.status().getConditions().get(0).getMessage().contains("the source was resumed"),
        next.status().getConditions().toString());
  }

  @Test
  void theSourceIsStoppedForGoodFromTheCommitPointUnlessAResumeRanIt() {
    assertEquals(
        SourceState.Running,
        flow.sourceState(
            Map.of(
                LiveFlow.RECEIVE, at(receive(TaskPhase.Running), Stage.Loaded),
                LiveFlow.SEND, at(send(TaskPhase.Running), Stage.Sent))),
        "undecided: a rollback gives the source its state back");
    assertEquals(
        SourceState.Stopped,
        flow.sourceState(
            Map.of(
                LiveFlow.RECEIVE, receive(TaskPhase.Running),
                LiveFlow.SEND, committed(send(TaskPhase.Succeeded)))));
    assertEquals(
        SourceState.Stopped,
        flow.sourceState(
            Map.of(
                LiveFlow.SEND,
                committed(send(TaskPhase.Succeeded)),
                LiveFlow.RESUME,
                task(
                    LiveFlow.RESUME,
                    TaskOperation.Resume,
                    "node-a",
                    "source-uid",
                    TaskPhase.Failed))),
        "a Resume that failed left the source stopped");
    assertEquals(
        SourceState.Running,
        flow.sourceState(
            Map.of(
                LiveFlow.SEND,
                committed(send(TaskPhase.Succeeded)),
                LiveFlow.RESUME,
                task(
                    LiveFlow.RESUME,
                    TaskOperation.Resume,
                    "node-a",
                    "source-uid",
                    TaskPhase.Succeeded))));
  }

  @Test
  void aCommittedTargetOnALostNodeFailsNodeLostAndTheSourceStaysStopped() {
    LiveFlow silentTarget =
        new LiveFlow(
            Fixtures.steps(Fixtures.bothPods(), Fixtures.nodeBSilentSinceStart()),
            () -> "token-1",
            AGENTS);

    Plan<VfioMigrationStatus> next =
        silentTarget.follow(
            running(Fixtures.live()),
            Map.of(
                LiveFlow.RECEIVE, committed(at(receive(TaskPhase.Running), Stage.Loaded)),
                LiveFlow.SEND, committed(send(TaskPhase.Succeeded))),
            Fixtures.SILENT_TOO_LONG);

    assertEquals(MigrationPhase.Failed, next.status().getPhase());
    assertEquals(Reason.NODE_LOST.wire(), readyReason(next));
    assertTrue(
        next.status().getConditions().get(0).getMessage().contains("the source stays stopped"),
        next.status().getConditions().toString());
    assertEquals(List.of(), next.tasks(), "no Resume: the target may still run the state");
  }

  @Test
  void aTargetThatRunsSucceedsWhateverTheCommittedSenderReports() {
    VfioNodeTask receive =
        committed(
            task(
                LiveFlow.RECEIVE,
                TaskOperation.Receive,
                "node-b",
                "target-uid",
                TaskPhase.Succeeded,
                status -> status.setResumedAt(NOW.toString())));

    Plan<VfioMigrationStatus> next =
        flow.follow(
            running(Fixtures.live()),
            Map.of(LiveFlow.RECEIVE, receive, LiveFlow.SEND, committed(send(TaskPhase.Failed))),
            NOW);

    assertEquals(MigrationPhase.Succeeded, next.status().getPhase());
    assertEquals(List.of(), next.tasks(), "nothing resumes the source");
  }

  /** A committed Receive whose target could not run the state. */
  private static VfioNodeTask failedAfterTheCommit() {
    return committed(
        task(
            LiveFlow.RECEIVE,
            TaskOperation.Receive,
            "node-b",
            "target-uid",
            TaskPhase.Failed,
            status -> status.setReason(Reason.DEVICE_ERROR.wire())));
  }

  private static VfioNodeTask send(TaskPhase phase) {
    return task(LiveFlow.SEND, TaskOperation.Send, "node-a", "source-uid", phase);
  }

  private static VfioNodeTask at(VfioNodeTask task, Stage stage) {
    task.getStatus().setStage(stage);
    return task;
  }

  private static VfioNodeTask committed(VfioNodeTask task) {
    task.getSpec().setSwitchover(SwitchoverDecision.Commit);
    return task;
  }

  private static List<String> commits(Plan<?> plan) {
    return Fixtures.actions(plan, TaskAction.Commit.class).stream()
        .map(c -> c.task().getMetadata().getName())
        .toList();
  }

  private static VfioNodeTask receive(TaskPhase phase) {
    return task(LiveFlow.RECEIVE, TaskOperation.Receive, "node-b", "target-uid", phase);
  }

  private static TaskEndpoint endpoint() {
    TaskEndpoint endpoint = new TaskEndpoint();
    endpoint.setHost("10.0.0.2");
    endpoint.setPort(9443);
    return endpoint;
  }

  @Test
  void aReceiverThatStopsHeartbeatingOnALiveNodeFailsTheMigrationTaskStalled() {
    LiveFlow flow = new LiveFlow(Fixtures.steps(Fixtures.bothPods()), () -> "token-1", AGENTS);
    VfioNodeTask stuck =
        task(
            LiveFlow.RECEIVE,
            TaskOperation.Receive,
            "node-b",
            "target-uid",
            TaskPhase.Running,
            status -> status.setHeartbeatTime(Fixtures.STARTED.toString()));
    VfioNodeTask send =
        task(
            LiveFlow.SEND,
            TaskOperation.Send,
            "node-a",
            "source-uid",
            TaskPhase.Running,
            status -> status.setHeartbeatTime(Fixtures.SILENT_TOO_LONG.toString()));

    Plan<VfioMigrationStatus> next =
        flow.follow(
            running(Fixtures.live()),
            Map.of(LiveFlow.RECEIVE, stuck, LiveFlow.SEND, send),
            Fixtures.SILENT_TOO_LONG);

    assertEquals(MigrationPhase.Failed, next.status().getPhase());
    assertEquals(Reason.TASK_STALLED.wire(), readyReason(next));
    assertTrue(
        next.status().getConditions().stream()
            .anyMatch(c -> c.getMessage().contains("mig-receive")));
  }

  @Test
  void aDeletionBeforeTheCommitPointCancelsBothSides() {
    List<VfioNodeTask> owned =
        List.of(
            at(send(TaskPhase.Running), Stage.Sent), at(receive(TaskPhase.Running), Stage.Loaded));

    List<TaskAction> actions = FlowSteps.onDeletion(owned);

    assertEquals(
        List.of("mig-send", "mig-receive"),
        actions.stream().map(a -> ((TaskAction.Cancel) a).task().getMetadata().getName()).toList());
    assertEquals(MigrationPhase.Failed, FlowSteps.deletedAs(owned));
  }

  @Test
  void aDeletionAfterTheCommitPointCommitsTheTargetAndCancelsNothing() {
    VfioNodeTask receive = at(receive(TaskPhase.Running), Stage.Loaded);
    List<VfioNodeTask> owned = List.of(committed(at(send(TaskPhase.Running), Stage.Sent)), receive);

    List<TaskAction> actions = FlowSteps.onDeletion(owned);

    assertEquals(List.of(new TaskAction.Commit(receive)), actions);
    assertEquals(
        MigrationPhase.Succeeded,
        FlowSteps.deletedAs(
            List.of(
                committed(send(TaskPhase.Succeeded)), committed(receive(TaskPhase.Succeeded)))));
  }
}
