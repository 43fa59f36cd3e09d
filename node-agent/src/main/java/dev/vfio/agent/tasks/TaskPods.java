package dev.vfio.agent.tasks;

import io.fabric8.kubernetes.api.model.Pod;

/**
 * The pods tasks act on, as the API server has them (the node's pod watch in the agent). Tasks only
 * read pods: telling a restore target's workload how its restore went is the operator's.
 */
@FunctionalInterface
public interface TaskPods {
  /** The pod with this name and UID, or whatever has the name now; null when none has it. */
  Pod find(String namespace, String name, String uid);
}
