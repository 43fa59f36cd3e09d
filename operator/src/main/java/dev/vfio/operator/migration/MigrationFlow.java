package dev.vfio.operator.migration;

import dev.vfio.api.v1alpha1.SourceState;
import dev.vfio.api.v1alpha1.TaskPhase;
import dev.vfio.api.v1alpha1.VfioMigration;
import dev.vfio.api.v1alpha1.VfioMigrationStatus;
import dev.vfio.api.v1alpha1.VfioNodeTask;
import dev.vfio.operator.reconcile.Plan;
import dev.vfio.operator.tasks.NodeTasks;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * How a migration of one mode runs: which tasks it uses, which it creates first, and what it does
 * next given the tasks that exist. The mode follows from the spec; {@link VfioMigrationReconciler}
 * picks the flow once per pass and hands it the tasks of its roles.
 */
interface MigrationFlow {
  /** The roles of this flow's tasks: a task of role r for migration m is named {@code <m>-<r>}. */
  List<String> roles();

  /** The first step of a migration that preflight accepted and admission let start. */
  Plan<VfioMigrationStatus> start(VfioMigration migration, MigrationPlan plan, Instant now);

  /**
   * The next step, given the tasks of this flow's roles that exist, by role; at least one does.
   * Every task this flow created is there: tasks are read from a cache that remembers them.
   */
  Plan<VfioMigrationStatus> follow(
      VfioMigration migration, Map<String, VfioNodeTask> tasks, Instant now);

  /**
   * What the tasks that exist, by role, leave the source pod's devices in; null for a flow without
   * a source pod.
   */
  SourceState sourceState(Map<String, VfioNodeTask> tasks);

  /** Whether {@code resume}, a flow's Resume task, ran the source again. */
  static boolean resumed(VfioNodeTask resume) {
    return resume != null && NodeTasks.phase(resume) == TaskPhase.Succeeded;
  }
}
