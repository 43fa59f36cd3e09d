package dev.vfio.operator.migration;

import dev.vfio.api.v1alpha1.Conditions;
import dev.vfio.api.v1alpha1.Durations;
import dev.vfio.api.v1alpha1.MigrationPhase;
import dev.vfio.api.v1alpha1.Reason;
import dev.vfio.api.v1alpha1.Stage;
import dev.vfio.api.v1alpha1.TaskOperation;
import dev.vfio.api.v1alpha1.TaskPhase;
import dev.vfio.api.v1alpha1.VfioMigration;
import dev.vfio.api.v1alpha1.VfioMigrationStatus;
import dev.vfio.api.v1alpha1.VfioNodeTask;
import dev.vfio.operator.events.Notice;
import dev.vfio.operator.metrics.Ending;
import dev.vfio.operator.preflight.Rejection;
import dev.vfio.operator.reconcile.Plan;
import dev.vfio.operator.tasks.LostNodes;
import dev.vfio.operator.tasks.NodeTasks;
import dev.vfio.operator.tasks.TaskAction;
import io.fabric8.kubernetes.api.model.Pod;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The steps every migration flow takes alike: start, progress, the watchdog on deadline and target
 * pod, roll back, succeed, fail, give up on a lost node. Each returns the {@link Plan} of one pass,
 * its status computed by {@link MigrationStatuses}.
 */
final class FlowSteps {
  static final Duration POLL = Duration.ofSeconds(2);
  private static final Logger LOG = LoggerFactory.getLogger(FlowSteps.class);

  /** Reads a pod from the API server; null if there is none. */
  @FunctionalInterface
  interface Pods {
    Pod get(String namespace, String name);
  }

  private final Duration defaultTimeout;
  private final Pods pods;
  private final LostNodes lostNodes;

  FlowSteps(Duration defaultTimeout, Pods pods, LostNodes lostNodes) {
    this.defaultTimeout = defaultTimeout;
    this.pods = pods;
    this.lostNodes = lostNodes;
  }

  Pod pod(VfioMigration migration, String name) {
    return pods.get(migration.getMetadata().getNamespace(), name);
  }

  Plan<VfioMigrationStatus> started(VfioMigration migration, MigrationPlan plan, Instant now) {
    LOG.info("started: {} device pair(s) to node {}", plan.pairs().size(), plan.targetNode());
    return Plan.of(MigrationStatuses.started(migration, plan, now))
        .notice(
            Notice.normal(
                "Started",
                (plan.fromSnapshot()
                        ? "restoring snapshot " + plan.snapshotDirectory()
                        : "migrating from node " + plan.sourceNode())
                    + " into pod "
                    + plan.targetPod().getMetadata().getName()
                    + " on node "
                    + plan.targetNode()))
        .requeue(POLL);
  }

  Plan<VfioMigrationStatus> waiting(VfioMigration migration, Rejection why, Instant now) {
    return Plan.of(MigrationStatuses.pending(migration, why, now)).requeue(POLL);
  }

  /**
   * Mirrors {@code mover}, the task moving the bytes (none yet: null), and the stage of the task
   * ahead.
   */
  Plan<VfioMigrationStatus> running(
      VfioMigration migration, VfioNodeTask mover, VfioNodeTask ahead) {
    return Plan.of(MigrationStatuses.progressed(migration, mover, stageOf(ahead))).requeue(POLL);
  }

  Plan<VfioMigrationStatus> rollingBack(
      VfioMigration migration, Reason reason, String message, Instant now) {
    return Plan.of(MigrationStatuses.rollingBack(migration, reason, message, now)).requeue(POLL);
  }

  /**
   * Deadline and target pod identity, checked on every pass while tasks run: past the deadline, or
   * with the target pod deleted or replaced, the running tasks are cancelled and roll back. {@code
   * targetUid} is null while no task holds the target yet.
   */
  Optional<Plan<VfioMigrationStatus>> watchdog(
      VfioMigration migration, List<VfioNodeTask> running, String targetUid, Instant now) {
    Reason reason;
    String message;
    if (expired(migration, now)) {
      reason = Reason.TIMEOUT;
      message = "not Succeeded within " + timeout(migration) + "; rolling back";
    } else if (targetUid != null
        && !targetUid.equals(uid(pod(migration, migration.getSpec().getTargetPodName())))) {
      reason = Reason.TARGET_POD_CHANGED;
      message =
          "target pod "
              + migration.getSpec().getTargetPodName()
              + " was deleted or replaced; rolling back";
    } else {
      return Optional.empty();
    }
    return Optional.of(
        rollingBack(migration, reason, message, now)
            .withAll(running.stream().map(TaskAction.Cancel::new).toList()));
  }

  Plan<VfioMigrationStatus> succeeded(
      VfioMigration migration,
      VfioNodeTask mover,
      VfioNodeTask target,
      Long downtime,
      Instant now) {
    VfioMigrationStatus succeeded =
        MigrationStatuses.succeeded(migration, mover, target, downtime, now);
    return Plan.of(succeeded)
        .notice(
            Notice.normal(
                "Succeeded",
                "device state runs in pod "
                    + migration.getSpec().getTargetPodName()
                    + (downtime == null ? "" : " after " + downtime + " ms of downtime")))
        .ending(
            new Ending("Succeeded", Reason.SUCCEEDED, downtime, succeeded.getBytesTransferred()));
  }

  /** Failed because {@code cause} ended without succeeding. */
  Plan<VfioMigrationStatus> failedBy(VfioMigration migration, VfioNodeTask cause, Instant now) {
    return failed(migration, reasonOf(migration, cause, now), messageOf(cause), now);
  }

  Plan<VfioMigrationStatus> failed(
      VfioMigration migration, Reason reason, String message, Instant now) {
    LOG.info("failed: {}: {}", reason, message);
    return Plan.of(MigrationStatuses.failed(migration, reason, message, now))
        .notice(Notice.warning(reason, message))
        .ending(new Ending("Failed", reason, null, null));
  }

  /**
   * One of {@code tasks} waits on an agent that is gone: the migration fails now, {@code after}
   * telling what that leaves. Nothing is cancelled or resumed on the strength of a silence: the
   * lost side may have done more than it reported.
   */
  Optional<Plan<VfioMigrationStatus>> nodeLost(
      VfioMigration migration, Collection<VfioNodeTask> tasks, String after, Instant now) {
    return lostNodes
        .lost(tasks, now)
        .map(why -> failed(migration, why.reason(), why.message() + "; " + after, now));
  }

  /**
   * The tasks of a running migration are gone: it fails, and what still runs of it is cancelled.
   */
  Plan<VfioMigrationStatus> lost(
      VfioMigration migration, List<VfioNodeTask> remaining, Instant now) {
    return failed(
            migration,
            Reason.TASK_LOST,
            "the migration's tasks disappeared before they finished: "
                + "create the migration again",
            now)
        .withAll(
            remaining.stream()
                .filter(t -> !NodeTasks.isTerminal(t))
                .map(TaskAction.Cancel::new)
                .toList());
  }

  /**
   * The cause of a failure: what started the rollback if something did (a deadline, the target pod
   * going away, the first side to fail), otherwise the failed task's own reason.
   */
  Reason reasonOf(VfioMigration migration, VfioNodeTask task, Instant now) {
    VfioMigrationStatus status = migration.getStatus();
    if (status != null && status.getStage() == Stage.RollingBack) {
      return Reason.fromWire(Conditions.find(status.getConditions(), Conditions.READY).getReason())
          .orElse(Reason.UNRECOGNIZED);
    }
    if (expired(migration, now)) {
      // Past the deadline both agents give up at once, and the side that notices the other
      // hanging up first reports a broken stream: the deadline is the cause.
      return Reason.TIMEOUT;
    }
    return NodeTasks.reason(task).orElse(Reason.CANCELLED);
  }

  static String messageOf(VfioNodeTask task) {
    String message = NodeTasks.message(task);
    return task.getSpec().getOperation()
        + " on node "
        + task.getSpec().getNodeName()
        + ": "
        + (message == null ? "ended " + NodeTasks.phase(task) : message);
  }

  /** From the source stopping to the target running, if both were reported. */
  static Long downtime(String stoppedAt, String resumedAt) {
    if (stoppedAt == null || resumedAt == null) {
      return null;
    }
    // Two nodes' clocks: the figure carries their skew, which NTP keeps to milliseconds.
    return Math.max(
        0, Duration.between(Instant.parse(stoppedAt), Instant.parse(resumedAt)).toMillis());
  }

  /**
   * What deleting a migration does to its unfinished tasks. Before a switchover is committed they
   * are cancelled and roll back. Once the Send is committed its source stays stopped whatever
   * happens, so cancelling the Receive would leave no copy running: the Receive is committed too
   * (if it is not yet) and nothing is cancelled, and the deletion waits for the target to run.
   */
  static List<TaskAction> onDeletion(Collection<VfioNodeTask> owned) {
    boolean committed = switchoverCommitted(owned);
    return owned.stream()
        .filter(t -> !NodeTasks.isTerminal(t))
        .<TaskAction>flatMap(
            t -> {
              if (!committed) {
                return Stream.of(new TaskAction.Cancel(t));
              }
              boolean uncommittedReceive =
                  t.getSpec().getOperation() == TaskOperation.Receive && !t.getSpec().committed();
              return uncommittedReceive ? Stream.of(new TaskAction.Commit(t)) : Stream.empty();
            })
        .toList();
  }

  /** Whether the Send of a live migration was committed: its source stays stopped for good. */
  static boolean switchoverCommitted(Collection<VfioNodeTask> owned) {
    return owned.stream()
        .anyMatch(t -> t.getSpec().getOperation() == TaskOperation.Send && t.getSpec().committed());
  }

  /**
   * The phase a deleted migration leaves its target in: Succeeded when a committed Receive ran the
   * state, otherwise Failed.
   */
  static MigrationPhase deletedAs(Collection<VfioNodeTask> owned) {
    return owned.stream()
            .anyMatch(
                t ->
                    t.getSpec().getOperation() == TaskOperation.Receive
                        && t.getSpec().committed()
                        && NodeTasks.phase(t) == TaskPhase.Succeeded)
        ? MigrationPhase.Succeeded
        : MigrationPhase.Failed;
  }

  static boolean failed(VfioNodeTask task) {
    return switch (NodeTasks.phase(task)) {
      case Failed, Cancelled -> true;
      default -> false;
    };
  }

  private static Stage stageOf(VfioNodeTask task) {
    return task == null || task.getStatus() == null ? null : task.getStatus().getStage();
  }

  private static String uid(Pod pod) {
    return pod == null ? null : pod.getMetadata().getUid();
  }

  private boolean expired(VfioMigration migration, Instant now) {
    String started = migration.getStatus() == null ? null : migration.getStatus().getStartTime();
    return started != null && !now.isBefore(Instant.parse(started).plus(timeout(migration)));
  }

  private Duration timeout(VfioMigration migration) {
    return Durations.parse(migration.getSpec().getTimeout(), defaultTimeout);
  }
}
