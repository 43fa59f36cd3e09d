package dev.vfio.agent.tasks;

import dev.vfio.agent.pods.PodRef;
import io.fabric8.kubernetes.api.model.Pod;

/** The pods tasks act on, as the API server has them ({@link ApiServerPods} in the agent). */
public interface TaskPods {
  /** The pod with this name and UID, or whatever has the name now; null when none has it. */
  Pod find(String namespace, String name, String uid);

  /**
   * Tells the workload of a restore target, through the downward API, how its restore went. A
   * failure to tell is logged, not thrown: the devices' outcome does not depend on it.
   */
  void markRestore(PodRef pod, String outcome);
}
