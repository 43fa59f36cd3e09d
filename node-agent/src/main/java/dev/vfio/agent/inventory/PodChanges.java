package dev.vfio.agent.inventory;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;

/** Runs an action on every change to a pod of this node. */
public final class PodChanges implements ResourceEventHandler<Pod> {
  private final Runnable action;

  public PodChanges(Runnable action) {
    this.action = action;
  }

  @Override
  public void onAdd(Pod pod) {
    action.run();
  }

  @Override
  public void onUpdate(Pod old, Pod pod) {
    action.run();
  }

  @Override
  public void onDelete(Pod pod, boolean unknownFinalState) {
    action.run();
  }
}
