package dev.vfio.operator.migration;

import static dev.vfio.operator.migration.Fixtures.LATE;
import static dev.vfio.operator.migration.Fixtures.NOW;
import static dev.vfio.operator.migration.Fixtures.STARTED;
import static dev.vfio.operator.migration.Fixtures.cancelled;
import static dev.vfio.operator.migration.Fixtures.created;
import static dev.vfio.operator.migration.Fixtures.pod;
import static dev.vfio.operator.migration.Fixtures.readyReason;
import static dev.vfio.operator.migration.Fixtures.reasons;
import static dev.vfio.operator.migration.Fixtures.running;
import static dev.vfio.operator.migration.Fixtures.task;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vfio.api.v1alpha1.Conditions;
import dev.vfio.api.v1alpha1.MigrationPhase;
import dev.vfio.api.v1alpha1.Reason;
import dev.vfio.api.v1alpha1.Stage;
import dev.vfio.api.v1alpha1.TaskOperation;
import dev.vfio.api.v1alpha1.TaskPhase;
import dev.vfio.api.v1alpha1.VfioMigrationStatus;
import dev.vfio.api.v1alpha1.VfioNodeTask;
import dev.vfio.api.v1alpha1.VfioNodeTaskSpec;
import dev.vfio.operator.reconcile.Plan;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RestoreFlowTest {
  final RestoreFlow flow = new RestoreFlow(Fixtures.steps(Fixtures.bothPods()));

  @Test
  void aRestoreStartsWithOneLoadOfTheSnapshotsBlobsIntoTheTarget() {
    MigrationPlan plan =
        new MigrationPlan(
            null,
            null,
            "vfio-snapshots",
            "default/nightly",
            "snapshot-uid",
            pod("target", "target-uid", "node-b"),
            "node-b",
            Fixtures.pairs(),
            4096,
            Duration.ofMinutes(3));

    Plan<VfioMigrationStatus> started = flow.start(Fixtures.restore(), plan, STARTED);

    VfioNodeTaskSpec load = created(started, RestoreFlow.LOAD);
    assertEquals("snapshot-uid", load.getBlobSetUid(), "the Load checks the blobs' seal");
    assertEquals(TaskOperation.Load, load.getOperation());
    assertEquals("node-b", load.getNodeName());
    assertEquals("target-uid", load.getPodUid());
    assertEquals(List.of("0000:af:00.0"), load.getDevices());
    assertEquals("vfio-snapshots", load.getStorageClaim());
    assertEquals("default/nightly", load.getBlobDirectory());
    assertEquals(STARTED.plus(Duration.ofMinutes(3)).toString(), load.getDeadline());
    assertEquals(MigrationPhase.Running, started.status().getPhase());
    assertEquals(4096, started.status().getProgress().getTotalBytes());
    assertEquals(List.of("Started"), reasons(started));
    assertEquals(1, started.tasks().size());
  }

  @Test
  void aLoadThatSucceededEndsTheRestoreSucceeded() {
    VfioNodeTask load = load(TaskPhase.Succeeded);

    Plan<VfioMigrationStatus> next =
        flow.follow(running(Fixtures.restore()), Map.of(RestoreFlow.LOAD, load), NOW);

    assertEquals(MigrationPhase.Succeeded, next.status().getPhase());
    assertEquals("Succeeded", next.ending().outcome());
    assertEquals(null, next.requeue(), "nothing more to look at");
  }

  @Test
  void aLoadThatFailedEndsTheRestoreFailedWithItsReasonAndMessage() {
    VfioNodeTask load =
        Fixtures.task(
            RestoreFlow.LOAD,
            TaskOperation.Load,
            "node-b",
            "target-uid",
            TaskPhase.Failed,
            status -> {
              status.setReason(Reason.BLOB_CORRUPT.wire());
              status.setMessage("chunk 3 fails its CRC");
            });

    Plan<VfioMigrationStatus> next =
        flow.follow(running(Fixtures.restore()), Map.of(RestoreFlow.LOAD, load), NOW);

    assertEquals(MigrationPhase.Failed, next.status().getPhase());
    assertEquals(Reason.BLOB_CORRUPT.wire(), readyReason(next));
    assertEquals(
        "Load on node node-b: chunk 3 fails its CRC",
        dev.vfio.api.v1alpha1.Conditions.find(next.status().getConditions(), "Ready").getMessage());
    assertEquals(List.of(Reason.BLOB_CORRUPT.wire()), reasons(next));
  }

  @Test
  void aReasonOfANewerAgentIsReportedAsUnrecognizedWithTheAgentsWordInTheMessage() {
    VfioNodeTask load =
        Fixtures.task(
            RestoreFlow.LOAD,
            TaskOperation.Load,
            "node-b",
            "target-uid",
            TaskPhase.Failed,
            status -> {
              status.setReason("FirmwareMismatch");
              status.setMessage("firmware 2.1 cannot take state of 2.0");
            });

    Plan<VfioMigrationStatus> next =
        flow.follow(running(Fixtures.restore()), Map.of(RestoreFlow.LOAD, load), NOW);

    assertEquals(MigrationPhase.Failed, next.status().getPhase());
    assertEquals(Reason.UNRECOGNIZED.wire(), readyReason(next));
    assertEquals(
        "Load on node node-b: the agent reported reason FirmwareMismatch, which this operator does"
            + " not know: firmware 2.1 cannot take state of 2.0",
        dev.vfio.api.v1alpha1.Conditions.find(next.status().getConditions(), "Ready").getMessage());
  }

  @Test
  void aRunningLoadIsMirroredAndLookedAtAgain() {
    VfioNodeTask load =
        Fixtures.task(
            RestoreFlow.LOAD,
            TaskOperation.Load,
            "node-b",
            "target-uid",
            TaskPhase.Running,
            status -> {
              status.setStage(Stage.Loading);
              status.setBytesDone(1024L);
              status.setTotalBytes(4096L);
            });

    Plan<VfioMigrationStatus> next =
        flow.follow(running(Fixtures.restore()), Map.of(RestoreFlow.LOAD, load), NOW);

    assertEquals(Stage.Loading, next.status().getStage());
    assertEquals(1024, next.status().getProgress().getBytesDone());
    assertEquals(FlowSteps.POLL, next.requeue());
    assertEquals(List.of(), next.tasks());
  }

  @Test
  void pastTheDeadlineTheLoadIsCancelledAndTheRestoreRollsBackForTimeout() {
    Plan<VfioMigrationStatus> next =
        flow.follow(
            running(Fixtures.restore()), Map.of(RestoreFlow.LOAD, load(TaskPhase.Running)), LATE);

    assertEquals(List.of("mig-load"), cancelled(next));
    assertEquals(Stage.RollingBack, next.status().getStage());
    assertEquals(Reason.TIMEOUT.wire(), readyReason(next));
  }

  @Test
  void aTargetPodReplacedUnderItsNameCancelsTheLoad() {
    RestoreFlow replaced =
        new RestoreFlow(Fixtures.steps(Fixtures.pods(pod("target", "another-uid", "node-b"))));

    Plan<VfioMigrationStatus> next =
        replaced.follow(
            running(Fixtures.restore()), Map.of(RestoreFlow.LOAD, load(TaskPhase.Running)), NOW);

    assertEquals(List.of("mig-load"), cancelled(next));
    assertEquals(Reason.TARGET_POD_CHANGED.wire(), readyReason(next));
  }

  @Test
  void aLoadCancelledByTheRollbackEndsFailedWithWhatStartedTheRollback() {
    var rollingBack =
        flow.follow(
            running(Fixtures.restore()), Map.of(RestoreFlow.LOAD, load(TaskPhase.Running)), LATE);
    var migration = running(Fixtures.restore());
    migration.setStatus(rollingBack.status());

    Plan<VfioMigrationStatus> next =
        flow.follow(
            migration, Map.of(RestoreFlow.LOAD, load(TaskPhase.Cancelled)), LATE.plusSeconds(2));

    assertEquals(MigrationPhase.Failed, next.status().getPhase());
    assertEquals(Reason.TIMEOUT.wire(), readyReason(next));
    assertTrue(next.tasks().isEmpty());
  }

  @Test
  void aLoadWhoseAgentFellSilentIsWaitedForUntilTheNodeIsLostThenTheRestoreFailsNodeLost() {
    RestoreFlow silentTarget =
        new RestoreFlow(Fixtures.steps(Fixtures.bothPods(), Fixtures.nodeBSilentSinceStart()));

    Plan<VfioMigrationStatus> waiting =
        silentTarget.follow(
            running(Fixtures.restore()), Map.of(RestoreFlow.LOAD, load(TaskPhase.Running)), NOW);
    Plan<VfioMigrationStatus> lost =
        silentTarget.follow(
            running(Fixtures.restore()),
            Map.of(RestoreFlow.LOAD, load(TaskPhase.Running)),
            Fixtures.SILENT_TOO_LONG);

    assertEquals(MigrationPhase.Running, waiting.status().getPhase());
    assertEquals(FlowSteps.POLL, waiting.requeue(), "the silence is noticed without an event");
    assertEquals(MigrationPhase.Failed, lost.status().getPhase());
    assertEquals(Reason.NODE_LOST.wire(), readyReason(lost));
    String message = Conditions.find(lost.status().getConditions(), Conditions.READY).getMessage();
    assertTrue(
        message.contains("node node-b") && message.contains("no heartbeat for 121s"), message);
    assertTrue(lost.tasks().isEmpty(), "nothing to wait for from a lost node");
  }

  private static VfioNodeTask load(TaskPhase phase) {
    return task(RestoreFlow.LOAD, TaskOperation.Load, "node-b", "target-uid", phase);
  }
}
