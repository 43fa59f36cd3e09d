package dev.vfio.operator.migration;

import dev.vfio.api.v1alpha1.SourceState;
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

/**
 * From a snapshot ({@code spec.source.snapshotName}): one {@code Load} task on the target's node
 * reads the blobs.
 */
final class RestoreFlow implements MigrationFlow {
  static final String LOAD = "load";

  private final FlowSteps steps;

  RestoreFlow(FlowSteps steps) {
    this.steps = steps;
  }

  @Override
  public List<String> roles() {
    return List.of(LOAD);
  }

  @Override
  public Plan<VfioMigrationStatus> start(VfioMigration migration, MigrationPlan plan, Instant now) {
    return steps
        .started(migration, plan, now)
        .with(
            new TaskAction.Create(
                LOAD,
                TaskSpecs.restoreLoad(
                    plan.targetPod(),
                    plan.pairs(),
                    plan.snapshotClaim(),
                    plan.snapshotDirectory(),
                    plan.snapshotUid(),
                    now.plus(plan.timeout()))));
  }

  @Override
  public Plan<VfioMigrationStatus> follow(
      VfioMigration migration, Map<String, VfioNodeTask> tasks, Instant now) {
    VfioNodeTask load = tasks.get(LOAD);
    var lost =
        steps.nodeLost(
            migration,
            tasks.values(),
            "the target's agent resets its devices if it comes back",
            now);
    if (lost.isPresent()) {
      return lost.get();
    }
    return switch (NodeTasks.phase(load)) {
      case Succeeded -> steps.succeeded(migration, load, load, null, now);
      case Failed, Cancelled -> steps.failedBy(migration, load, now);
      default ->
          steps
              .watchdog(migration, List.of(load), load.getSpec().getPodUid(), now)
              .orElseGet(() -> steps.running(migration, load, load));
    };
  }

  @Override
  public SourceState sourceState(Map<String, VfioNodeTask> tasks) {
    return null;
  }
}
