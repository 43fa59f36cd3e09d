package dev.vfio.operator.snapshot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vfio.api.v1alpha1.Condition;
import dev.vfio.api.v1alpha1.Conditions;
import dev.vfio.api.v1alpha1.DeviceResult;
import dev.vfio.api.v1alpha1.NodeDevice;
import dev.vfio.api.v1alpha1.Reason;
import dev.vfio.api.v1alpha1.SnapshotPhase;
import dev.vfio.api.v1alpha1.Stage;
import dev.vfio.api.v1alpha1.TaskPhase;
import dev.vfio.api.v1alpha1.VfioNodeTask;
import dev.vfio.api.v1alpha1.VfioNodeTaskSpec;
import dev.vfio.api.v1alpha1.VfioNodeTaskStatus;
import dev.vfio.api.v1alpha1.VfioSnapshot;
import dev.vfio.api.v1alpha1.VfioSnapshotSpec;
import dev.vfio.api.v1alpha1.VfioSnapshotStatus;
import dev.vfio.operator.preflight.Rejection;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.PodBuilder;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

class SnapshotStatusesTest {
  static final Instant STARTED = Instant.parse("2026-12-01T10:00:00Z");
  static final Instant NOW = STARTED.plusSeconds(20);

  @Test
  void aSnapshotWaitingForTheInventoryIsPendingSayingSo() {
    VfioSnapshotStatus pending =
        SnapshotStatuses.pending(
            snapshot(),
            new Rejection(Reason.WAITING_FOR_INVENTORY, "waiting for its next heartbeat"),
            NOW);

    assertEquals(SnapshotPhase.Pending, pending.getPhase());
    assertReady(
        pending,
        Condition.FALSE,
        Reason.WAITING_FOR_INVENTORY.wire(),
        "waiting for its next heartbeat");
    assertEquals(3L, pending.getObservedGeneration());
  }

  @Test
  void aStartedSnapshotRunsOnThePodsNodeWithTheStateSizeTheInventoryEstimates() {
    SnapshotPlan plan =
        new SnapshotPlan(
            new PodBuilder().withNewMetadata().withName("gpu").endMetadata().build(),
            "node-a",
            List.of(device("0000:3b:00.0", 1000L), device("0000:3c:00.0", null)),
            "vfio-snapshots",
            Duration.ofMinutes(10));

    VfioSnapshotStatus started = SnapshotStatuses.started(snapshot(), plan, "snap-save", STARTED);

    assertEquals(SnapshotPhase.Running, started.getPhase());
    assertEquals(Stage.Preparing, started.getStage());
    assertEquals("node-a", started.getNodeName());
    assertEquals(2, started.getDeviceCount());
    assertEquals("snap-save", started.getTaskName());
    assertEquals(STARTED.toString(), started.getStartTime());
    assertEquals(1000L, started.getProgress().getTotalBytes());
    assertFalse(started.getReadyToUse());
    assertReady(
        started,
        Condition.FALSE,
        Reason.IN_PROGRESS.wire(),
        "saving the state of 2 device(s) on node node-a");
  }

  @Test
  void aTaskTheStatusDoesNotNameIsTakenOverAsStartedWhenItWasCreated() {
    VfioSnapshotStatus adopted =
        SnapshotStatuses.adopted(snapshot(), task(TaskPhase.Running, s -> {}), NOW);

    assertEquals(SnapshotPhase.Running, adopted.getPhase());
    assertEquals("snap-save", adopted.getTaskName());
    assertEquals("node-a", adopted.getNodeName());
    assertEquals(1, adopted.getDeviceCount());
    assertEquals(STARTED.toString(), adopted.getStartTime());
  }

  @Test
  void progressMirrorsTheTaskButARollbackKeepsItsStage() {
    VfioSnapshot snapshot = snapshot();
    snapshot.setStatus(
        SnapshotStatuses.rollingBack(snapshot, Reason.TIMEOUT, "timeout reached", NOW));

    VfioSnapshotStatus next =
        SnapshotStatuses.progressed(
            snapshot,
            task(
                TaskPhase.Running,
                status -> {
                  status.setStage(Stage.StopCopy);
                  status.setBytesDone(500L);
                }),
            NOW);

    assertEquals(Stage.RollingBack, next.getStage());
    assertEquals(500, next.getProgress().getBytesDone());
    assertEquals(500, next.getProgress().getTotalBytes(), "never less than done");
  }

  @Test
  void aReadySnapshotSumsItsDevicesAndIsReadyToUse() {
    VfioSnapshotStatus ready =
        SnapshotStatuses.ready(
            snapshot(),
            task(
                TaskPhase.Succeeded,
                status -> {
                  status.setDevices(
                      List.of(result("0000:3b:00.0", 1L << 20), result("0000:3c:00.0", 1L << 20)));
                  status.setDowntimeMillis(42L);
                }),
            NOW);

    assertEquals(SnapshotPhase.Ready, ready.getPhase());
    assertEquals(Stage.Done, ready.getStage());
    assertTrue(ready.getReadyToUse());
    assertEquals(2L << 20, ready.getTotalBytes());
    assertEquals("2.0Mi", ready.getSize());
    assertEquals(2, ready.getDeviceCount());
    assertEquals(42L, ready.getDowntimeMillis());
    assertEquals(NOW.toString(), ready.getCompletionTime());
    assertReady(
        ready,
        Condition.TRUE,
        Reason.SUCCEEDED.wire(),
        "saved 2.0Mi of device state from 2 device(s)");
  }

  @Test
  void aFailedSnapshotIsNotReadyToUseAndItsStageEndsOnlyIfItHadOne() {
    VfioSnapshotStatus refused =
        SnapshotStatuses.failed(snapshot(), Reason.POD_NOT_FOUND, "no pod", NOW);
    assertEquals(SnapshotPhase.Failed, refused.getPhase());
    assertEquals(null, refused.getStage());
    assertFalse(refused.getReadyToUse());

    VfioSnapshot running = snapshot();
    running.setStatus(SnapshotStatuses.adopted(running, task(TaskPhase.Running, s -> {}), NOW));
    VfioSnapshotStatus failed = SnapshotStatuses.failed(running, Reason.DEVICE_ERROR, "EIO", NOW);
    assertEquals(Stage.Done, failed.getStage());
    assertReady(failed, Condition.FALSE, Reason.DEVICE_ERROR.wire(), "EIO");
  }

  private static void assertReady(
      VfioSnapshotStatus status, String value, String reason, String message) {
    Condition ready = Conditions.find(status.getConditions(), Conditions.READY);
    assertEquals(value, ready.getStatus());
    assertEquals(reason, ready.getReason());
    assertEquals(message, ready.getMessage());
  }

  private static VfioSnapshot snapshot() {
    VfioSnapshot snapshot = new VfioSnapshot();
    snapshot.setMetadata(
        new ObjectMetaBuilder()
            .withName("snap")
            .withNamespace("default")
            .withGeneration(3L)
            .build());
    VfioSnapshotSpec spec = new VfioSnapshotSpec();
    spec.setPodName("gpu");
    snapshot.setSpec(spec);
    return snapshot;
  }

  private static VfioNodeTask task(TaskPhase phase, Consumer<VfioNodeTaskStatus> customize) {
    VfioNodeTask task = new VfioNodeTask();
    task.setMetadata(
        new ObjectMetaBuilder()
            .withName("snap-save")
            .withNamespace("default")
            .withCreationTimestamp(STARTED.toString())
            .build());
    VfioNodeTaskSpec spec = new VfioNodeTaskSpec();
    spec.setNodeName("node-a");
    spec.setDevices(List.of("0000:3b:00.0"));
    task.setSpec(spec);
    VfioNodeTaskStatus status = new VfioNodeTaskStatus();
    status.setPhase(phase);
    customize.accept(status);
    task.setStatus(status);
    return task;
  }

  private static NodeDevice device(String address, Long stateSize) {
    NodeDevice device = new NodeDevice();
    device.setAddress(address);
    device.setStateSizeBytes(stateSize);
    return device;
  }

  private static DeviceResult result(String address, long bytes) {
    DeviceResult result = new DeviceResult();
    result.setAddress(address);
    result.setBytes(bytes);
    return result;
  }
}
