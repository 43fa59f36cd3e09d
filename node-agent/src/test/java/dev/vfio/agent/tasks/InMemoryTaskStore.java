package dev.vfio.agent.tasks;

import dev.vfio.api.v1alpha1.SwitchoverDecision;
import dev.vfio.api.v1alpha1.VfioNodeTask;
import dev.vfio.api.v1alpha1.VfioNodeTaskStatus;
import io.fabric8.kubernetes.client.utils.Serialization;

/**
 * One task kept as an API server keeps it, with a resourceVersion that every write advances and
 * that a conditional write must match: the operator's Commit and an agent's conditional ending race
 * here as they do against a real server.
 */
public final class InMemoryTaskStore implements TaskStore {
  private VfioNodeTask stored;
  private long version;

  /** Holds {@code task}, as created. */
  public InMemoryTaskStore(VfioNodeTask task) {
    stored = Serialization.clone(task);
    advance();
  }

  @Override
  public synchronized VfioNodeTask read(VfioNodeTask task) {
    return stored == null ? null : Serialization.clone(stored);
  }

  @Override
  public synchronized boolean writeIfUnchanged(VfioNodeTask seen, VfioNodeTaskStatus status) {
    if (stored == null
        || !stored
            .getMetadata()
            .getResourceVersion()
            .equals(seen.getMetadata().getResourceVersion())) {
      return false;
    }
    write(status);
    return true;
  }

  /** An unconditional status write, as the agent's progress reports are. */
  public synchronized void write(VfioNodeTaskStatus status) {
    if (stored != null) {
      stored.setStatus(Serialization.clone(status));
      advance();
    }
  }

  /** The operator's Commit; returns the task as it is now, for the agent's watch. */
  public synchronized VfioNodeTask commit() {
    stored.getSpec().setSwitchover(SwitchoverDecision.Commit);
    advance();
    return Serialization.clone(stored);
  }

  /** The operator's cancel; returns the task as it is now, for the agent's watch. */
  public synchronized VfioNodeTask cancel() {
    stored.getSpec().setCancelRequested(true);
    advance();
    return Serialization.clone(stored);
  }

  /** The task deleted. */
  public synchronized void delete() {
    stored = null;
  }

  public synchronized VfioNodeTask stored() {
    return stored == null ? null : Serialization.clone(stored);
  }

  private void advance() {
    stored.getMetadata().setResourceVersion(Long.toString(++version));
  }
}
