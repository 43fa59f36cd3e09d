package dev.vfio.operator.migration;

import dev.vfio.api.v1alpha1.SourceState;
import dev.vfio.api.v1alpha1.TaskPhase;
import dev.vfio.api.v1alpha1.VfioMigration;
import dev.vfio.api.v1alpha1.VfioMigrationStatus;
import dev.vfio.api.v1alpha1.VfioNodeTask;
import dev.vfio.operator.reconcile.Plan;
import dev.vfio.operator.tasks.NodeTasks;
import dev.vfio.operator.tasks.TaskAction;
import dev.vfio.operator.tasks.TaskSpecs;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Stream;

/**
 * Through storage (transport Storage): a {@code Save} on the source's node, which leaves the source
 * stopped, then a {@code Load} on the target's node, then a {@code DeleteBlobs} of the transfer. If
 * the load fails, a {@code Resume} task runs the source again before the migration reports its
 * failure.
 */
final class StorageFlow implements MigrationFlow {
  // Not "save": a VfioSnapshot of the same name in the namespace names its task <name>-save.
  static final String SAVE = "storage-save";
  static final String LOAD = "load";
  static final String RESUME = "resume";
  static final String CLEANUP = "cleanup";

  /**
   * On the Save task: the UID of the target pod the saved state is for, so that the Load refuses a
   * replaced target.
   */
  static final String TARGET_UID = "vfio.dev/target-uid";

  private final FlowSteps steps;
  private final String storageClaim;

  /** {@code storageClaim} holds the blobs in transit: one every agent mounts. */
  StorageFlow(FlowSteps steps, String storageClaim) {
    this.steps = steps;
    this.storageClaim = storageClaim;
  }

  @Override
  public List<String> roles() {
    return List.of(SAVE, LOAD, RESUME, CLEANUP);
  }

  @Override
  public Plan<VfioMigrationStatus> start(VfioMigration migration, MigrationPlan plan, Instant now) {
    return steps
        .started(migration, plan, now)
        .with(
            new TaskAction.Create(
                SAVE,
                TaskSpecs.storageSave(
                    migration.getSpec(),
                    plan.sourcePod(),
                    plan.pairs(),
                    storageClaim,
                    transferDirectory(migration),
                    migration.getMetadata().getUid(),
                    now.plus(plan.timeout())),
                true,
                Map.of(TARGET_UID, plan.targetPod().getMetadata().getUid())));
  }

  /** Where the blobs in transit live: never a snapshot's directory. */
  static String transferDirectory(VfioMigration migration) {
    return migration.getMetadata().getNamespace() + "/vmig-" + migration.getMetadata().getUid();
  }

  @Override
  public SourceState sourceState(Map<String, VfioNodeTask> tasks) {
    VfioNodeTask save = tasks.get(SAVE);
    // The Save leaves the source's devices stopped once it succeeded (KeepStopped).
    return save != null
            && NodeTasks.phase(save) == TaskPhase.Succeeded
            && !MigrationFlow.resumed(tasks.get(RESUME))
        ? SourceState.Stopped
        : SourceState.Running;
  }

  @Override
  public Plan<VfioMigrationStatus> follow(
      VfioMigration migration, Map<String, VfioNodeTask> tasks, Instant now) {
    VfioNodeTask save = tasks.get(SAVE);
    VfioNodeTask load = tasks.get(LOAD);
    VfioNodeTask resume = tasks.get(RESUME);
    if (save == null) {
      return steps.lost(migration, Stream.of(load, resume).filter(Objects::nonNull).toList(), now);
    }
    var lost =
        steps.nodeLost(
            migration,
            tasks.values(),
            NodeTasks.phase(save) == TaskPhase.Succeeded
                ? "the source pod's devices stay stopped as the Save left them: restart the source pod to run it again"
                : "its agent returns the source devices to RUNNING if it comes back",
            now);
    if (lost.isPresent()) {
      return lost.get();
    }
    if (resume != null) {
      if (!NodeTasks.isTerminal(resume)) {
        return Plan.waitFor(FlowSteps.POLL);
      }
      VfioNodeTask cause = load == null ? save : load;
      return steps.failed(
          migration,
          steps.reasonOf(migration, cause, now),
          FlowSteps.messageOf(cause) + "; the source was resumed: " + FlowSteps.messageOf(resume),
          now);
    }
    if (FlowSteps.failed(save)) {
      return steps.failedBy(migration, save, now);
    }
    if (NodeTasks.phase(save) != TaskPhase.Succeeded) {
      return steps
          .watchdog(migration, List.of(save), null, now)
          .orElseGet(() -> steps.running(migration, save, save));
    }
    if (load == null) {
      return Plan.<VfioMigrationStatus>waitFor(FlowSteps.POLL)
          .with(
              new TaskAction.Create(
                  LOAD,
                  TaskSpecs.storageLoad(
                      save,
                      migration.getStatus().getTargetNode(),
                      migration.getSpec().getTargetPodName(),
                      save.getMetadata().getAnnotations().get(TARGET_UID))));
    }
    return switch (NodeTasks.phase(load)) {
      case Succeeded ->
          steps
              .succeeded(
                  migration,
                  load,
                  load,
                  FlowSteps.downtime(
                      save.getStatus() == null ? null : save.getStatus().getStoppedAt(),
                      load.getStatus().getResumedAt()),
                  now)
              .with(
                  new TaskAction.Create(
                      CLEANUP,
                      TaskSpecs.deleteBlobs(
                          load.getSpec().getNodeName(),
                          save.getSpec().getStorageClaim(),
                          save.getSpec().getBlobDirectory())));
      case Failed, Cancelled ->
          steps
              .rollingBack(
                  migration,
                  steps.reasonOf(migration, load, now),
                  "resuming the source: " + FlowSteps.messageOf(load),
                  now)
              .with(new TaskAction.Create(RESUME, TaskSpecs.resume(save)));
      default ->
          steps
              .watchdog(migration, List.of(load), load.getSpec().getPodUid(), now)
              .orElseGet(() -> steps.running(migration, load, load));
    };
  }
}
