package dev.vfio.agent.tasks;

import dev.vfio.api.v1alpha1.VfioNodeTask;
import dev.vfio.api.v1alpha1.VfioNodeTaskStatus;

/**
 * A task as the API server holds it, for the writes that must not cross a decision of the operator:
 * a status written only if the task is still the one read, so that a spec change in between (a
 * switchover Commit) makes the write fail rather than go unseen.
 */
public interface TaskStore {
  /** The task as stored now; null if it is gone. */
  VfioNodeTask read(VfioNodeTask task);

  /**
   * Writes the whole status if the task is still at the resourceVersion of {@code seen}; false when
   * it changed since (409 Conflict) or is gone.
   */
  boolean writeIfUnchanged(VfioNodeTask seen, VfioNodeTaskStatus status);
}
