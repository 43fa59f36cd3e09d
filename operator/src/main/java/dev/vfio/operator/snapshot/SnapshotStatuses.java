package dev.vfio.operator.snapshot;

import dev.vfio.api.v1alpha1.ByteSizes;
import dev.vfio.api.v1alpha1.Condition;
import dev.vfio.api.v1alpha1.DeviceResult;
import dev.vfio.api.v1alpha1.Progress;
import dev.vfio.api.v1alpha1.Reason;
import dev.vfio.api.v1alpha1.SnapshotPhase;
import dev.vfio.api.v1alpha1.Stage;
import dev.vfio.api.v1alpha1.VfioNodeTask;
import dev.vfio.api.v1alpha1.VfioNodeTaskStatus;
import dev.vfio.api.v1alpha1.VfioSnapshot;
import dev.vfio.api.v1alpha1.VfioSnapshotStatus;
import dev.vfio.operator.preflight.Rejection;
import dev.vfio.operator.status.ReadyCondition;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.List;

/**
 * Computes a snapshot's next status from its current one and an observation. Pure functions, so the
 * transitions are tested without an API server.
 */
public final class SnapshotStatuses {
  private SnapshotStatuses() {}

  static VfioSnapshotStatus copy(VfioSnapshot snapshot) {
    VfioSnapshotStatus current = snapshot.getStatus();
    return current == null ? new VfioSnapshotStatus() : Serialization.clone(current);
  }

  public static VfioSnapshotStatus failed(
      VfioSnapshot snapshot, Reason reason, String message, Instant now) {
    VfioSnapshotStatus next = copy(snapshot);
    next.setPhase(SnapshotPhase.Failed);
    next.setReadyToUse(false);
    if (next.getStage() != null) {
      next.setStage(Stage.Done);
    }
    next.setCompletionTime(now.toString());
    return withReady(snapshot, next, Condition.FALSE, reason, message, now);
  }

  public static VfioSnapshotStatus pending(VfioSnapshot snapshot, Rejection why, Instant now) {
    VfioSnapshotStatus next = copy(snapshot);
    next.setPhase(SnapshotPhase.Pending);
    return withReady(snapshot, next, Condition.FALSE, why.reason(), why.message(), now);
  }

  public static VfioSnapshotStatus started(
      VfioSnapshot snapshot, SnapshotPlan plan, String taskName, Instant now) {
    VfioSnapshotStatus next = copy(snapshot);
    next.setPhase(SnapshotPhase.Running);
    next.setStage(Stage.Preparing);
    next.setNodeName(plan.nodeName());
    next.setDeviceCount(plan.devices().size());
    next.setReadyToUse(false);
    next.setStartTime(now.toString());
    next.setTaskName(taskName);
    long estimate =
        plan.devices().stream()
            .mapToLong(d -> d.getStateSizeBytes() == null ? 0 : d.getStateSizeBytes())
            .sum();
    next.setProgress(new Progress(0, estimate));
    return withReady(
        snapshot,
        next,
        Condition.FALSE,
        Reason.IN_PROGRESS,
        "saving the state of " + plan.devices().size() + " device(s) on node " + plan.nodeName(),
        now);
  }

  /**
   * Taken over from a task the snapshot's status does not name: the operator stopped between
   * creating the task and recording it. As {@link #started}, from what the task says.
   */
  public static VfioSnapshotStatus adopted(VfioSnapshot snapshot, VfioNodeTask task, Instant now) {
    VfioSnapshotStatus next = copy(snapshot);
    int devices = task.getSpec().getDevices() == null ? 0 : task.getSpec().getDevices().size();
    String created = task.getMetadata().getCreationTimestamp();
    next.setPhase(SnapshotPhase.Running);
    next.setStage(Stage.Preparing);
    next.setNodeName(task.getSpec().getNodeName());
    next.setDeviceCount(devices);
    next.setReadyToUse(false);
    next.setStartTime(
        created == null ? now.toString() : OffsetDateTime.parse(created).toInstant().toString());
    next.setTaskName(task.getMetadata().getName());
    next.setProgress(new Progress(0, 0));
    return withReady(
        snapshot,
        next,
        Condition.FALSE,
        Reason.IN_PROGRESS,
        "saving the state of " + devices + " device(s) on node " + task.getSpec().getNodeName(),
        now);
  }

  /** Mirrors the agent's progress on the task into the snapshot. */
  public static VfioSnapshotStatus progressed(
      VfioSnapshot snapshot, VfioNodeTask task, Instant now) {
    VfioSnapshotStatus next = copy(snapshot);
    VfioNodeTaskStatus taskStatus = task.getStatus();
    if (taskStatus == null) {
      return next;
    }
    if (taskStatus.getStage() != null && next.getStage() != Stage.RollingBack) {
      next.setStage(taskStatus.getStage());
    }
    long done = taskStatus.getBytesDone() == null ? 0 : taskStatus.getBytesDone();
    long total =
        taskStatus.getTotalBytes() == null
            ? (next.getProgress() == null || next.getProgress().getTotalBytes() == null
                ? 0
                : next.getProgress().getTotalBytes())
            : taskStatus.getTotalBytes();
    Progress progress = new Progress(done, Math.max(total, done));
    progress.setPrecopy(taskStatus.getPrecopy());
    next.setProgress(progress);
    if (taskStatus.getDevices() != null) {
      next.setDevices(taskStatus.getDevices());
    }
    return next;
  }

  public static VfioSnapshotStatus rollingBack(
      VfioSnapshot snapshot, Reason reason, String message, Instant now) {
    VfioSnapshotStatus next = copy(snapshot);
    next.setStage(Stage.RollingBack);
    return withReady(snapshot, next, Condition.FALSE, reason, message, now);
  }

  public static VfioSnapshotStatus ready(VfioSnapshot snapshot, VfioNodeTask task, Instant now) {
    VfioSnapshotStatus next = progressed(snapshot, task, now);
    List<DeviceResult> devices =
        task.getStatus().getDevices() == null ? List.of() : task.getStatus().getDevices();
    long total = devices.stream().mapToLong(d -> d.getBytes() == null ? 0 : d.getBytes()).sum();
    next.setPhase(SnapshotPhase.Ready);
    next.setStage(Stage.Done);
    next.setReadyToUse(true);
    next.setDevices(devices);
    next.setDeviceCount(devices.size());
    next.setTotalBytes(total);
    next.setSize(ByteSizes.human(total));
    next.setProgress(new Progress(total, total));
    next.setDowntimeMillis(task.getStatus().getDowntimeMillis());
    next.setCompletionTime(now.toString());
    return withReady(
        snapshot,
        next,
        Condition.TRUE,
        Reason.SUCCEEDED,
        "saved "
            + ByteSizes.human(total)
            + " of device state from "
            + devices.size()
            + " device(s)",
        now);
  }

  private static VfioSnapshotStatus withReady(
      VfioSnapshot snapshot,
      VfioSnapshotStatus next,
      String status,
      Reason reason,
      String message,
      Instant now) {
    next.setObservedGeneration(ReadyCondition.generation(snapshot));
    next.setConditions(
        ReadyCondition.with(snapshot, next.getConditions(), status, reason, message, now));
    return next;
  }
}
