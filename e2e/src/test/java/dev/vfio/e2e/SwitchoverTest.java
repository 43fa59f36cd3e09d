package dev.vfio.e2e;

import static dev.vfio.e2e.LiveMigrationTest.assertSourceRunning;
import static dev.vfio.e2e.RestoreFromSnapshotTest.awaitMigration;
import static dev.vfio.e2e.RestoreFromSnapshotTest.createMigration;
import static dev.vfio.e2e.RestoreFromSnapshotTest.deviceState;
import static dev.vfio.e2e.RestoreFromSnapshotTest.restoreStatus;
import static dev.vfio.e2e.RestoreFromSnapshotTest.restoreTarget;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vfio.api.v1alpha1.Conditions;
import dev.vfio.api.v1alpha1.MigrationPhase;
import dev.vfio.api.v1alpha1.Reason;
import dev.vfio.api.v1alpha1.SourceState;
import dev.vfio.api.v1alpha1.Stage;
import dev.vfio.api.v1alpha1.TaskPhase;
import dev.vfio.api.v1alpha1.VfioMigration;
import dev.vfio.api.v1alpha1.VfioNodeTask;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import java.nio.file.Path;
import java.util.List;
import java.util.Properties;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The two-phase switchover of a live migration under the faults of its fault matrix
 * (docs/reliability.md): whoever dies, and whenever, at most one of source and target runs the
 * state afterwards, and exactly one once every agent is back. The operator is killed to stop the
 * flow at the points between the phases: suspended longer than its leader lease, it would exit.
 */
class SwitchoverTest extends ClusterTest {
  @BeforeAll
  static void start(@TempDir Path work) throws Exception {
    startCluster(work, LiveMigrationTest.sources(0x50), LiveMigrationTest.targets(0xb0));
  }

  @Test
  void targetAgentKilledAtLoadedBeforeTheCommitLeavesTheSourceRunning() throws Exception {
    startSending("before-commit", "bc-source", "0000:51:00.0", "bc-target", "0000:b0:01.0");
    cluster.operator().kill();
    awaitBothWaiting("before-commit");
    assertSourceStopped("0000:51:00.0", "undecided, the source waits stopped");

    cluster.node("node-b").agent().kill();
    cluster.node("node-b").agent().start();
    // The operator comes back only once the restarted agent settled its task: one back earlier
    // may commit first, and then the restarted target rightly runs the state.
    await("the restarted target agent ends its uncommitted task")
        .atMost(PATIENCE)
        .until(() -> task("before-commit-receive").getStatus().getPhase() == TaskPhase.Failed);
    assertFalse(task("before-commit-receive").getSpec().committed());
    cluster.operator().start();

    VfioMigration failed = awaitMigration("before-commit", MigrationPhase.Failed);
    assertEquals(Reason.AGENT_RESTARTED.wire(), reason(failed));
    assertEquals(SourceState.Running, failed.getStatus().getSourceState());
    assertSourceRunning("0000:51:00.0", "bc-source");
    Properties target = deviceState("node-b", "0000:b0:01.0");
    assertEquals("RUNNING", target.getProperty("state"));
    assertNotEquals("0000:51:00.0", target.getProperty("origin"), "the target never ran it");
  }

  @Test
  void targetAgentKilledAfterTheCommitRunsTheTargetWhenItRestarts() throws Exception {
    startSending("after-commit", "ac-source", "0000:52:00.0", "ac-target", "0000:b0:02.0");
    cluster.operator().kill();
    awaitBothWaiting("after-commit");
    cluster.node("node-b").agent().suspend();
    cluster.operator().start();
    await("the operator commits both sides")
        .atMost(PATIENCE)
        .until(() -> task("after-commit-receive").getSpec().committed());
    cluster.node("node-b").agent().kill();
    cluster.node("node-b").agent().start();

    VfioMigration done = awaitMigration("after-commit", MigrationPhase.Succeeded);
    assertEquals(SourceState.Stopped, done.getStatus().getSourceState());
    Properties target = deviceState("node-b", "0000:b0:02.0");
    assertEquals("RUNNING", target.getProperty("state"));
    assertEquals("0000:52:00.0", target.getProperty("origin"), "the target runs the source state");
    assertEquals(
        deviceState("node-a", "0000:52:00.0").getProperty("epoch"), target.getProperty("epoch"));
    assertSourceStopped("0000:52:00.0", "the source stays stopped once the target runs");
  }

  @Test
  void operatorKilledBetweenTheTwoCommitsCompletesTheMigrationWhenItRestarts() throws Exception {
    startSending("between", "bw-source", "0000:53:00.0", "bw-target", "0000:b0:03.0");
    cluster.operator().kill();
    awaitBothWaiting("between");
    assertSourceStopped("0000:53:00.0", "with no decision the source never resumes on its own");
    // The operator's first patch, the commit point, written as the operator writes it; then it
    // died before the second.
    try (KubernetesClient operator = cluster.operatorClient()) {
      operator
          .resource(task("between-send"))
          .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"spec\":{\"switchover\":\"Commit\"}}");
    }

    cluster.operator().start();

    awaitMigration("between", MigrationPhase.Succeeded);
    Properties target = deviceState("node-b", "0000:b0:03.0");
    assertEquals("RUNNING", target.getProperty("state"));
    assertEquals("0000:53:00.0", target.getProperty("origin"));
    assertSourceStopped("0000:53:00.0", "the source stays stopped once the target runs");
  }

  @Test
  void aMigrationDeletedAfterTheCommitPointRunsTheTargetBeforeItGoes() throws Exception {
    startSending("deleted", "dl-source", "0000:54:00.0", "dl-target", "0000:b0:04.0");
    cluster.operator().kill();
    awaitBothWaiting("deleted");
    try (KubernetesClient operator = cluster.operatorClient()) {
      operator
          .resource(task("deleted-send"))
          .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"spec\":{\"switchover\":\"Commit\"}}");
    }
    // The source is committed to stop: cancelling the target now would leave no copy running.
    client.resources(VfioMigration.class).inNamespace(NS).withName("deleted").delete();

    cluster.operator().start();

    await("the deleted migration goes once its target runs")
        .atMost(PATIENCE)
        .until(
            () ->
                client.resources(VfioMigration.class).inNamespace(NS).withName("deleted").get()
                    == null);
    Properties target = deviceState("node-b", "0000:b0:04.0");
    assertEquals("RUNNING", target.getProperty("state"));
    assertEquals("0000:54:00.0", target.getProperty("origin"));
    assertSourceStopped("0000:54:00.0", "the source stays stopped once the target runs");
    assertEquals(
        "Succeeded", restoreStatus("dl-target"), "the target pod is told it runs the state");
  }

  @Test
  void aMigrationDeletedBeforeTheCommitPointLeavesTheSourceRunning() throws Exception {
    startSending("withdrawn", "wd-source", "0000:55:00.0", "wd-target", "0000:b0:05.0");
    cluster.operator().kill();
    awaitBothWaiting("withdrawn");
    client.resources(VfioMigration.class).inNamespace(NS).withName("withdrawn").delete();

    cluster.operator().start();

    await("the deleted migration goes once both sides rolled back")
        .atMost(PATIENCE)
        .until(
            () ->
                client.resources(VfioMigration.class).inNamespace(NS).withName("withdrawn").get()
                    == null);
    assertSourceRunning("0000:55:00.0", "wd-source");
    Properties target = deviceState("node-b", "0000:b0:05.0");
    assertNotEquals("0000:55:00.0", target.getProperty("origin"), "the target never ran it");
  }

  /**
   * A migration from a slow source device, returned once its Send task exists: the operator can be
   * held from here on, well before both sides wait for the switchover. (Its bytes show in the
   * migration's status only at Sent, too late.)
   */
  private static void startSending(
      String migration,
      String sourcePod,
      String sourceDevice,
      String targetPod,
      String targetDevice) {
    cluster.runningPod(NS, sourcePod, "node-a", sourceDevice);
    restoreTarget(targetPod, "node-b", targetDevice);
    createMigration(migration, spec -> spec.getSource().setPodName(sourcePod), targetPod);
    await(migration + " sending").atMost(PATIENCE).until(() -> task(migration + "-send") != null);
  }

  /** The Send at Sent and the Receive at Loaded, neither committed. */
  private static void awaitBothWaiting(String migration) {
    await(migration + " waiting for the switchover")
        .atMost(PATIENCE)
        .until(
            () ->
                at(task(migration + "-send"), Stage.Sent)
                    && at(task(migration + "-receive"), Stage.Loaded));
    assertTrue(
        List.of(task(migration + "-send"), task(migration + "-receive")).stream()
            .noneMatch(t -> t.getSpec().committed()),
        "held before the commit");
  }

  private static boolean at(VfioNodeTask task, Stage stage) {
    return task != null && task.getStatus() != null && task.getStatus().getStage() == stage;
  }

  private static VfioNodeTask task(String name) {
    return client.resources(VfioNodeTask.class).inNamespace(NS).withName(name).get();
  }

  private static String reason(VfioMigration migration) {
    return Conditions.find(migration.getStatus().getConditions(), Conditions.READY).getReason();
  }

  private static void assertSourceStopped(String device, String why) throws Exception {
    assertEquals("STOP", deviceState("node-a", device).getProperty("state"), why);
  }
}
