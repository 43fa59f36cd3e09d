package dev.vfio.e2e;

import static dev.vfio.e2e.RestoreFromSnapshotTest.awaitMigration;
import static dev.vfio.e2e.RestoreFromSnapshotTest.createMigration;
import static dev.vfio.e2e.RestoreFromSnapshotTest.deviceState;
import static dev.vfio.e2e.RestoreFromSnapshotTest.restoreStatus;
import static dev.vfio.e2e.RestoreFromSnapshotTest.restoreTarget;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vfio.agent.sim.SimulatedFreezer;
import dev.vfio.api.v1alpha1.Condition;
import dev.vfio.api.v1alpha1.Conditions;
import dev.vfio.api.v1alpha1.MigrationPhase;
import dev.vfio.api.v1alpha1.Reason;
import dev.vfio.api.v1alpha1.SnapshotPhase;
import dev.vfio.api.v1alpha1.TaskPhase;
import dev.vfio.api.v1alpha1.VfioMigration;
import dev.vfio.api.v1alpha1.VfioNodeTask;
import dev.vfio.api.v1alpha1.VfioSnapshot;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Live migration between nodes, and what must hold whenever it fails before the target runs: the
 * source devices RUNNING again and the source pod thawed, the target devices reset and the target
 * pod marked Failed, the migration Failed with a reason that names the cause.
 */
class LiveMigrationTest extends ClusterTest {
  static final long SIZE = 4 << 20;

  @BeforeAll
  static void start(@TempDir Path work) throws Exception {
    startCluster(work, sources(0x3b), targets(0xaf));
  }

  static List<SimulatedNode.Device> sources(int bus) {
    return List.of(
        precopyCapable(String.format("0000:%02x:00.0", bus)),
            precopyCapable(String.format("0000:%02x:00.1", bus)),
        slow(String.format("0000:%02x:00.0", bus + 1)),
            slow(String.format("0000:%02x:00.0", bus + 2)),
        slow(String.format("0000:%02x:00.0", bus + 3)),
            slow(String.format("0000:%02x:00.0", bus + 4)),
        slow(String.format("0000:%02x:00.0", bus + 5)),
            slow(String.format("0000:%02x:00.0", bus + 6)),
        slow(String.format("0000:%02x:00.0", bus + 7)),
            slow(String.format("0000:%02x:00.0", bus + 8)),
        slow(String.format("0000:%02x:00.0", bus + 9)),
            slow(String.format("0000:%02x:00.0", bus + 10)));
  }

  static List<SimulatedNode.Device> targets(int bus) {
    return java.util.stream.IntStream.range(0, 12)
        .mapToObj(
            i ->
                SimulatedNode.Device.of(String.format("0000:%02x:%02x.0", bus, i), SIZE)
                    .with("flags", List.of("STOP_COPY", "P2P", "PRE_COPY")))
        .toList();
  }

  static SimulatedNode.Device precopyCapable(String address) {
    return SimulatedNode.Device.of(address, SIZE)
        .with("flags", List.of("STOP_COPY", "P2P", "PRE_COPY"))
        .with("dirtyBytesPerRound", 256 << 10);
  }

  /** Streams at 1 MiB/s, so a test can break things mid-transfer. */
  static SimulatedNode.Device slow(String address) {
    return SimulatedNode.Device.of(address, SIZE)
        .with("flags", List.of("STOP_COPY", "P2P", "PRE_COPY"))
        .with("faults", Map.of("bytesPerSecond", 1 << 20));
  }

  @Test
  void liveMigrationMovesTheStateOfTwoDevicesToAnotherNode() throws Exception {
    cluster.runningPod(NS, "live-source", "node-a", "0000:3b:00.0", "0000:3b:00.1");
    restoreTarget("live-target", "node-b", "0000:af:00.0", "0000:af:01.0");

    createMigration("live", spec -> spec.getSource().setPodName("live-source"), "live-target");
    VfioMigration done = awaitMigration("live", MigrationPhase.Succeeded);

    assertEquals("node-a", done.getStatus().getSourceNode());
    assertEquals("node-b", done.getStatus().getTargetNode());
    assertNotNull(done.getStatus().getDowntimeMillis());
    assertTrue(done.getStatus().getPrecopyRounds() >= 1, "PRE_COPY ran while the source still ran");
    assertTrue(done.getStatus().getBytesTransferred() >= 2 * SIZE);
    for (String[] pair :
        List.of(
            new String[] {"0000:3b:00.0", "0000:af:00.0"},
            new String[] {"0000:3b:00.1", "0000:af:01.0"})) {
      Properties source = deviceState("node-a", pair[0]);
      Properties target = deviceState("node-b", pair[1]);
      assertEquals(pair[0], target.getProperty("origin"), "the target runs the source's state");
      assertEquals(source.getProperty("epoch"), target.getProperty("epoch"));
      assertEquals("RUNNING", target.getProperty("state"));
      assertEquals(
          "STOP", source.getProperty("state"), "the source stays stopped once the target runs");
    }
    assertEquals("Succeeded", restoreStatus("live-target"));

    createSnapshot("after-live", "live-source", spec -> {});
    VfioSnapshot refused = awaitPhase("after-live", SnapshotPhase.Failed);
    Condition ready = readyCondition(refused);
    assertEquals(Reason.SOURCE_STOPPED.wire(), ready.getReason());
    assertTrue(ready.getMessage().contains("VfioMigration live (Succeeded)"), ready.getMessage());
    assertEquals(
        "STOP",
        deviceState("node-a", "0000:3b:00.0").getProperty("state"),
        "the source still does not run");
  }

  @Test
  void networkPartitionMidTransferFailsTheMigrationAndRollsBothSidesBack() throws Exception {
    startMigrating("cut", "cut-source", "0000:3c:00.0", "cut-target", "0000:af:02.0");

    cluster.node("node-a").agent().suspend();
    try {
      // The target's agent gives up on its own; the operator marks the pod once the source,
      // whose agent is suspended here, has rolled back too.
      await("receiver gives up")
          .atMost(PATIENCE)
          .until(
              () -> {
                VfioNodeTask receive =
                    client
                        .resources(VfioNodeTask.class)
                        .inNamespace(NS)
                        .withName("cut-receive")
                        .get();
                return receive != null
                    && receive.getStatus() != null
                    && receive.getStatus().getPhase() == TaskPhase.Failed;
              });
    } finally {
      cluster.node("node-a").agent().resume();
    }

    VfioMigration failed = awaitMigration("cut", MigrationPhase.Failed);
    assertEquals(Reason.TRANSFER_FAILED.wire(), reason(failed));
    assertRolledBack("0000:3c:00.0", "cut-source", "0000:af:02.0");
    await("the operator tells the target")
        .atMost(PATIENCE)
        .until(() -> "Failed".equals(restoreStatus("cut-target")));
  }

  @Test
  void sourceAgentKilledMidTransferFailsTheMigrationAndTheSourceRunsAgainWhenItRestarts()
      throws Exception {
    startMigrating(
        "source-killed", "killed-source", "0000:3d:00.0", "killed-source-target", "0000:af:03.0");

    cluster.node("node-a").agent().kill();
    cluster.node("node-a").agent().start();

    VfioMigration failed = awaitMigration("source-killed", MigrationPhase.Failed);
    assertTrue(
        List.of(Reason.AGENT_RESTARTED.wire(), Reason.TRANSFER_FAILED.wire())
            .contains(reason(failed)),
        reason(failed));
    awaitNodeReady("node-a");
    assertRolledBack("0000:3d:00.0", "killed-source", "0000:af:03.0");
  }

  @Test
  void targetAgentKilledMidTransferFailsTheMigrationAndTheSourceRunsAgain() throws Exception {
    startMigrating("target-killed", "tk-source", "0000:3e:00.0", "tk-target", "0000:af:04.0");

    cluster.node("node-b").agent().kill();
    cluster.node("node-b").agent().start();

    VfioMigration failed = awaitMigration("target-killed", MigrationPhase.Failed);
    assertTrue(
        List.of(Reason.AGENT_RESTARTED.wire(), Reason.TRANSFER_FAILED.wire())
            .contains(reason(failed)),
        reason(failed));
    awaitNodeReady("node-b");
    assertRolledBack("0000:3e:00.0", "tk-source", "0000:af:04.0");
  }

  @Test
  void targetPodDeletedMidTransferFailsTheMigrationAndTheSourceRunsAgain() throws Exception {
    startMigrating("target-deleted", "tpd-source", "0000:3f:00.0", "tpd-target", "0000:af:05.0");

    cluster.deletePod(NS, "tpd-target");

    VfioMigration failed = awaitMigration("target-deleted", MigrationPhase.Failed);
    assertEquals(Reason.TARGET_POD_CHANGED.wire(), reason(failed));
    assertSourceRunning("0000:3f:00.0", "tpd-source");
    await("target device reset")
        .atMost(PATIENCE)
        .until(() -> "RUNNING".equals(device("node-b", "0000:af:05.0").getMigrationState()));
  }

  @Test
  void migrationPastItsDeadlineFailsWithTimeoutAndRollsBack() throws Exception {
    cluster.runningPod(NS, "slow-source", "node-a", "0000:40:00.0");
    restoreTarget("slow-target", "node-b", "0000:af:06.0");

    createMigration(
        "too-slow",
        spec -> {
          spec.getSource().setPodName("slow-source");
          spec.setTimeout("2s");
        },
        "slow-target");

    VfioMigration failed = awaitMigration("too-slow", MigrationPhase.Failed);
    assertEquals(Reason.TIMEOUT.wire(), reason(failed));
    assertRolledBack("0000:40:00.0", "slow-source", "0000:af:06.0");
  }

  @Test
  void migrationDeletedWhileRunningRollsBack() throws Exception {
    startMigrating("delete-me", "del-source", "0000:41:00.0", "del-target", "0000:af:07.0");

    client.resources(VfioMigration.class).inNamespace(NS).withName("delete-me").delete();

    await("migration gone")
        .atMost(PATIENCE)
        .until(
            () ->
                client.resources(VfioMigration.class).inNamespace(NS).withName("delete-me").get()
                    == null);
    assertRolledBack("0000:41:00.0", "del-source", "0000:af:07.0");
  }

  @Test
  void operatorRestartedMidMigrationStillCompletesIt() throws Exception {
    startMigrating("operator-restarted", "or-source", "0000:42:00.0", "or-target", "0000:af:08.0");

    cluster.operator().kill();
    cluster.operator().start();

    VfioMigration done = awaitMigration("operator-restarted", MigrationPhase.Succeeded);
    assertEquals("0000:42:00.0", deviceState("node-b", "0000:af:08.0").getProperty("origin"));
    assertNotNull(done.getStatus().getDowntimeMillis());
  }

  @Test
  void migrationsBeyondThePerNodeBoundWaitInPendingAndThenRun() throws Exception {
    List<String> names = List.of("bounded-1", "bounded-2", "bounded-3");
    for (int i = 0; i < names.size(); i++) {
      String source = String.format("0000:%02x:00.0", 0x43 + i);
      cluster.runningPod(NS, names.get(i) + "-source", "node-a", source);
      restoreTarget(names.get(i) + "-target", "node-b", String.format("0000:af:%02x.0", 9 + i));
    }
    for (String name : names) {
      createMigration(
          name, spec -> spec.getSource().setPodName(name + "-source"), name + "-target");
    }

    await("one migration waits for capacity")
        .atMost(PATIENCE)
        .until(
            () ->
                names.stream()
                    .map(
                        n ->
                            client.resources(VfioMigration.class).inNamespace(NS).withName(n).get())
                    .anyMatch(
                        m ->
                            m.getStatus() != null
                                && m.getStatus().getPhase() == MigrationPhase.Pending
                                && Reason.WAITING_FOR_CAPACITY.wire().equals(reason(m))));
    for (String name : names) {
      awaitMigration(name, MigrationPhase.Succeeded);
    }
  }

  /** A migration from a slow source device, returned once bytes are moving. */
  private static void startMigrating(
      String migration,
      String sourcePod,
      String sourceDevice,
      String targetPod,
      String targetDevice) {
    cluster.runningPod(NS, sourcePod, "node-a", sourceDevice);
    restoreTarget(targetPod, "node-b", targetDevice);
    createMigration(migration, spec -> spec.getSource().setPodName(sourcePod), targetPod);
    awaitBytesMoved(migration);
  }

  private static void awaitBytesMoved(String migration) {
    await(migration + " moving bytes")
        .atMost(PATIENCE)
        .until(
            () -> {
              VfioMigration current =
                  client.resources(VfioMigration.class).inNamespace(NS).withName(migration).get();
              return current.getStatus() != null
                  && current.getStatus().getBytesTransferred() != null
                  && current.getStatus().getBytesTransferred() > 0;
            });
  }

  private static String reason(VfioMigration migration) {
    return Conditions.find(migration.getStatus().getConditions(), Conditions.READY).getReason();
  }

  private static void assertRolledBack(String sourceDevice, String sourcePod, String targetDevice)
      throws Exception {
    assertSourceRunning(sourceDevice, sourcePod);
    await("target device reset")
        .atMost(PATIENCE)
        .until(() -> "RUNNING".equals(device("node-b", targetDevice).getMigrationState()));
    Properties target = deviceState("node-b", targetDevice);
    assertFalse(
        sourceDevice.equals(target.getProperty("origin")), "the target never runs a partial state");
  }

  static void assertSourceRunning(String sourceDevice, String sourcePod) {
    await("source device running")
        .atMost(PATIENCE)
        .until(() -> "RUNNING".equals(device("node-a", sourceDevice).getMigrationState()));
    String uid = client.pods().inNamespace(NS).withName(sourcePod).get().getMetadata().getUid();
    await("source pod thawed")
        .atMost(PATIENCE)
        .until(
            () ->
                !Files.exists(
                    SimulatedFreezer.marker(cluster.node("node-a").simulationDirectory(), uid)));
  }
}
