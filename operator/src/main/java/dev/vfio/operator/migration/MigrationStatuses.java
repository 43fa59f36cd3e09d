package dev.vfio.operator.migration;

import dev.vfio.api.v1alpha1.Condition;
import dev.vfio.api.v1alpha1.MigrationPhase;
import dev.vfio.api.v1alpha1.Progress;
import dev.vfio.api.v1alpha1.Reason;
import dev.vfio.api.v1alpha1.Stage;
import dev.vfio.api.v1alpha1.VfioMigration;
import dev.vfio.api.v1alpha1.VfioMigrationStatus;
import dev.vfio.api.v1alpha1.VfioNodeTask;
import dev.vfio.operator.preflight.Rejection;
import dev.vfio.operator.status.ReadyCondition;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.time.Duration;
import java.time.Instant;

/** Computes a migration's next status from its current one and an observation. */
final class MigrationStatuses {
  private MigrationStatuses() {}

  static VfioMigrationStatus copy(VfioMigration migration) {
    return migration.getStatus() == null
        ? new VfioMigrationStatus()
        : Serialization.clone(migration.getStatus());
  }

  static VfioMigrationStatus pending(VfioMigration migration, Rejection why, Instant now) {
    VfioMigrationStatus next = copy(migration);
    next.setPhase(MigrationPhase.Pending);
    return ready(migration, next, Condition.FALSE, why.reason(), why.message(), now);
  }

  static VfioMigrationStatus started(VfioMigration migration, MigrationPlan plan, Instant now) {
    VfioMigrationStatus next = copy(migration);
    next.setPhase(MigrationPhase.Running);
    next.setStage(Stage.Preparing);
    next.setSourceNode(plan.sourceNode());
    next.setSourcePodUid(plan.fromSnapshot() ? null : plan.sourcePod().getMetadata().getUid());
    next.setTargetNode(plan.targetNode());
    next.setStartTime(now.toString());
    next.setProgress(new Progress(0, plan.expectedBytes()));
    return ready(
        migration,
        next,
        Condition.FALSE,
        Reason.IN_PROGRESS,
        (plan.fromSnapshot() ? "restoring " : "migrating ")
            + plan.pairs().size()
            + " device(s) into pod "
            + plan.targetPod().getMetadata().getName()
            + " on node "
            + plan.targetNode(),
        now);
  }

  /** Mirrors the task that moves the bytes (Send or Load) and the stage of the one ahead. */
  static VfioMigrationStatus progressed(VfioMigration migration, VfioNodeTask mover, Stage stage) {
    VfioMigrationStatus next = copy(migration);
    if (stage != null && next.getStage() != Stage.RollingBack) {
      next.setStage(stage);
    }
    if (mover != null && mover.getStatus() != null) {
      long done = mover.getStatus().getBytesDone() == null ? 0 : mover.getStatus().getBytesDone();
      long total =
          mover.getStatus().getTotalBytes() != null
              ? mover.getStatus().getTotalBytes()
              : next.getProgress() == null || next.getProgress().getTotalBytes() == null
                  ? 0
                  : next.getProgress().getTotalBytes();
      Progress progress = new Progress(done, Math.max(done, total));
      progress.setPrecopy(mover.getStatus().getPrecopy());
      next.setProgress(progress);
      next.setBytesTransferred(done);
      if (mover.getStatus().getPrecopyRounds() != null) {
        next.setPrecopyRounds(mover.getStatus().getPrecopyRounds());
      }
    }
    return next;
  }

  static VfioMigrationStatus rollingBack(
      VfioMigration migration, Reason reason, String message, Instant now) {
    VfioMigrationStatus next = copy(migration);
    next.setStage(Stage.RollingBack);
    return ready(migration, next, Condition.FALSE, reason, message, now);
  }

  static VfioMigrationStatus succeeded(
      VfioMigration migration,
      VfioNodeTask mover,
      VfioNodeTask target,
      Long downtimeMillis,
      Instant now) {
    VfioMigrationStatus next = progressed(migration, mover, Stage.Done);
    next.setPhase(MigrationPhase.Succeeded);
    next.setStage(Stage.Done);
    next.setDevices(target.getStatus().getDevices());
    long bytes = next.getBytesTransferred() == null ? 0 : next.getBytesTransferred();
    next.setProgress(new Progress(bytes, bytes));
    next.setDowntimeMillis(downtimeMillis);
    next.setCompletionTime(now.toString());
    if (next.getStartTime() != null) {
      long millis =
          Math.max(1, Duration.between(Instant.parse(next.getStartTime()), now).toMillis());
      next.setThroughputBytesPerSecond(bytes * 1000 / millis);
    }
    return ready(
        migration,
        next,
        Condition.TRUE,
        Reason.SUCCEEDED,
        "the device state of "
            + (target.getStatus().getDevices() == null ? 0 : target.getStatus().getDevices().size())
            + " device(s) runs in pod "
            + migration.getSpec().getTargetPodName(),
        now);
  }

  static VfioMigrationStatus failed(
      VfioMigration migration, Reason reason, String message, Instant now) {
    VfioMigrationStatus next = copy(migration);
    next.setPhase(MigrationPhase.Failed);
    if (next.getStage() != null) {
      next.setStage(Stage.Done);
    }
    next.setCompletionTime(now.toString());
    return ready(migration, next, Condition.FALSE, reason, message, now);
  }

  private static VfioMigrationStatus ready(
      VfioMigration migration,
      VfioMigrationStatus next,
      String status,
      Reason reason,
      String message,
      Instant now) {
    next.setObservedGeneration(ReadyCondition.generation(migration));
    next.setConditions(
        ReadyCondition.with(migration, next.getConditions(), status, reason, message, now));
    return next;
  }
}
