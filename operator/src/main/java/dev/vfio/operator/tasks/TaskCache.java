package dev.vfio.operator.tasks;

import dev.vfio.api.v1alpha1.VfioNodeTask;
import java.util.Optional;

/**
 * The tasks as the operator's watch sees them, read without a request. Complete for what matters:
 * the watch lists every task before the first reconciliation, and a task the operator creates is
 * {@link #created remembered} at once, before the watch delivers it.
 */
public interface TaskCache {
  Optional<VfioNodeTask> get(String namespace, String name);

  /**
   * A task this operator just created, seen from now on although the watch may not have delivered
   * it yet.
   */
  void created(VfioNodeTask task);
}
