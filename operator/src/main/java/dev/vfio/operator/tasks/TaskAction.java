package dev.vfio.operator.tasks;

import dev.vfio.api.v1alpha1.VfioNodeTask;
import dev.vfio.api.v1alpha1.VfioNodeTaskSpec;
import java.util.Map;

/**
 * A change to the tasks of one parent, decided by a reconciler's plan and carried out by {@link
 * NodeTasks#apply}.
 */
public sealed interface TaskAction {
  /** Creates the task doing {@code role}, unless it exists; see {@link NodeTasks#create}. */
  record Create(String role, VfioNodeTaskSpec spec, boolean owned, Map<String, String> annotations)
      implements TaskAction {
    /** A task the parent owns, garbage collected with it. */
    public Create(String role, VfioNodeTaskSpec spec) {
      this(role, spec, true, Map.of());
    }
  }

  /** Asks the agent to stop the task and roll its devices back. */
  record Cancel(VfioNodeTask task) implements TaskAction {}

  /**
   * Commits the switchover of a Send or Receive, if the task is still as {@code task} shows it: a
   * task that changed since (its agent gave up and ended it) stays uncommitted, and the next pass
   * sees why; see {@link NodeTasks#commit}.
   */
  record Commit(VfioNodeTask task) implements TaskAction {}

  /** Deletes the task named {@code name} in the parent's namespace, if it exists. */
  record Delete(String name) implements TaskAction {}
}
