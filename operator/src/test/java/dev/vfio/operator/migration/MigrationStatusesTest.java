package dev.vfio.operator.migration;

import static dev.vfio.operator.migration.Fixtures.NOW;
import static dev.vfio.operator.migration.Fixtures.STARTED;
import static dev.vfio.operator.migration.Fixtures.task;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.vfio.api.v1alpha1.Condition;
import dev.vfio.api.v1alpha1.Conditions;
import dev.vfio.api.v1alpha1.DeviceResult;
import dev.vfio.api.v1alpha1.MigrationPhase;
import dev.vfio.api.v1alpha1.PrecopyProgress;
import dev.vfio.api.v1alpha1.Reason;
import dev.vfio.api.v1alpha1.Stage;
import dev.vfio.api.v1alpha1.TaskOperation;
import dev.vfio.api.v1alpha1.TaskPhase;
import dev.vfio.api.v1alpha1.VfioMigration;
import dev.vfio.api.v1alpha1.VfioMigrationStatus;
import dev.vfio.api.v1alpha1.VfioNodeTask;
import dev.vfio.operator.preflight.Rejection;
import java.util.List;
import org.junit.jupiter.api.Test;

class MigrationStatusesTest {
  @Test
  void aWaitingMigrationIsPendingWithTheReasonItWaits() {
    VfioMigrationStatus pending =
        MigrationStatuses.pending(
            Fixtures.live(),
            new Rejection(Reason.WAITING_FOR_CAPACITY, "2 migrations are in flight"),
            NOW);

    assertEquals(MigrationPhase.Pending, pending.getPhase());
    assertReady(
        pending, Condition.FALSE, Reason.WAITING_FOR_CAPACITY.wire(), "2 migrations are in flight");
    assertEquals(1L, pending.getObservedGeneration());
  }

  @Test
  void aStartedMigrationRunsWithItsNodesAndTheExpectedSize() {
    VfioMigrationStatus started =
        MigrationStatuses.started(Fixtures.live(), Fixtures.livePlan(), STARTED);

    assertEquals(MigrationPhase.Running, started.getPhase());
    assertEquals(Stage.Preparing, started.getStage());
    assertEquals("node-a", started.getSourceNode());
    assertEquals("node-b", started.getTargetNode());
    assertEquals(STARTED.toString(), started.getStartTime());
    assertEquals(1L << 20, started.getProgress().getTotalBytes());
    assertReady(
        started,
        Condition.FALSE,
        Reason.IN_PROGRESS.wire(),
        "migrating 1 device(s) into pod target on node node-b");
  }

  @Test
  void progressMirrorsTheMoverAndNeverShowsMoreDoneThanTotal() {
    VfioMigration migration = Fixtures.running(Fixtures.live());
    VfioNodeTask send =
        task(
            "send",
            TaskOperation.Send,
            "node-a",
            "source-uid",
            TaskPhase.Running,
            status -> {
              status.setBytesDone(3000L);
              status.setTotalBytes(2000L);
              status.setPrecopyRounds(3);
              status.setStage(Stage.Precopy);
              PrecopyProgress precopy = new PrecopyProgress();
              precopy.setDirtyBytes(4096L);
              status.setPrecopy(precopy);
            });

    VfioMigrationStatus next = MigrationStatuses.progressed(migration, send, Stage.Precopy);

    assertEquals(4096L, next.getProgress().getPrecopy().getDirtyBytes());

    assertEquals(3000, next.getProgress().getBytesDone());
    assertEquals(3000, next.getProgress().getTotalBytes());
    assertEquals(3000, next.getBytesTransferred());
    assertEquals(3, next.getPrecopyRounds());
    assertEquals(Stage.Precopy, next.getStage());
  }

  @Test
  void aMigrationRollingBackStaysRollingBackWhateverStageTheTasksReport() {
    VfioMigration migration = Fixtures.running(Fixtures.live());
    migration.setStatus(
        MigrationStatuses.rollingBack(migration, Reason.TIMEOUT, "rolling back", NOW));

    VfioMigrationStatus next = MigrationStatuses.progressed(migration, null, Stage.StopCopy);

    assertEquals(Stage.RollingBack, next.getStage());
    assertReady(next, Condition.FALSE, Reason.TIMEOUT.wire(), "rolling back");
  }

  @Test
  void aSucceededMigrationReportsTheTargetsDevicesDowntimeAndThroughput() {
    VfioMigration migration = Fixtures.running(Fixtures.live());
    VfioNodeTask send =
        task(
            "send",
            TaskOperation.Send,
            "node-a",
            "source-uid",
            TaskPhase.Succeeded,
            status -> status.setBytesDone(30_000L));
    DeviceResult device = new DeviceResult();
    device.setAddress("0000:af:00.0");
    VfioNodeTask receive =
        task(
            "receive",
            TaskOperation.Receive,
            "node-b",
            "target-uid",
            TaskPhase.Succeeded,
            status -> status.setDevices(List.of(device)));

    VfioMigrationStatus next = MigrationStatuses.succeeded(migration, send, receive, 150L, NOW);

    assertEquals(MigrationPhase.Succeeded, next.getPhase());
    assertEquals(Stage.Done, next.getStage());
    assertEquals(List.of(device), next.getDevices());
    assertEquals(150L, next.getDowntimeMillis());
    assertEquals(
        30_000 / 30,
        next.getThroughputBytesPerSecond(),
        "30 000 bytes over the 30 s since the start");
    assertEquals(100, next.getProgress().getPercent());
    assertEquals(NOW.toString(), next.getCompletionTime());
    assertReady(
        next,
        Condition.TRUE,
        Reason.SUCCEEDED.wire(),
        "the device state of 1 device(s) runs in pod target");
  }

  @Test
  void aMigrationFailedBeforeItStartedHasNoStage() {
    VfioMigrationStatus failed =
        MigrationStatuses.failed(Fixtures.live(), Reason.POD_NOT_FOUND, "no pod", NOW);

    assertEquals(MigrationPhase.Failed, failed.getPhase());
    assertNull(failed.getStage());
    assertReady(failed, Condition.FALSE, Reason.POD_NOT_FOUND.wire(), "no pod");
  }

  @Test
  void aFailedMigrationThatRanEndsDoneAndItsReadyConditionKeepsItsTransitionTime() {
    VfioMigration migration = Fixtures.running(Fixtures.live());
    migration.setStatus(MigrationStatuses.started(migration, Fixtures.livePlan(), STARTED));

    VfioMigrationStatus failed =
        MigrationStatuses.failed(migration, Reason.TIMEOUT, "too slow", NOW);

    assertEquals(Stage.Done, failed.getStage());
    assertEquals(
        STARTED.toString(),
        Conditions.find(failed.getConditions(), Conditions.READY).getLastTransitionTime(),
        "Ready was False already");
  }

  private static void assertReady(
      VfioMigrationStatus status, String value, String reason, String message) {
    Condition ready = Conditions.find(status.getConditions(), Conditions.READY);
    assertEquals(value, ready.getStatus());
    assertEquals(reason, ready.getReason());
    assertEquals(message, ready.getMessage());
  }
}
