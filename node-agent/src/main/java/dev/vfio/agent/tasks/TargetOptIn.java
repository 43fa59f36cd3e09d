package dev.vfio.agent.tasks;

import dev.vfio.agent.pods.PodRef;
import dev.vfio.api.v1alpha1.PodAnnotations;
import dev.vfio.api.v1alpha1.Reason;
import io.fabric8.kubernetes.api.model.Pod;
import java.util.Map;

/**
 * The target pod's own consent, read again from the API server the moment before its devices take
 * state. The operator checked it when the restore began, but the user may have withdrawn it since,
 * and a task naming a pod that never opted in must not reach its devices whoever wrote the task:
 * the agent takes that from the pod, not from the task nor from its own watch, which may lag.
 */
public final class TargetOptIn {
  private final TaskPods apiServer;

  /** {@code apiServer} reads a pod from the API server itself, not from a cache. */
  public TargetOptIn(TaskPods apiServer) {
    this.apiServer = apiServer;
  }

  /**
   * @throws TaskFailure TargetPodChanged if {@code pod} is gone or replaced; TargetNotOptedIn if it
   *     does not carry {@code vfio.dev/restore-target: "true"}
   */
  void require(PodRef pod) throws TaskFailure {
    Pod live = apiServer.find(pod.namespace(), pod.name(), pod.uid());
    if (live == null || !pod.uid().equals(live.getMetadata().getUid())) {
      throw new TaskFailure(
          Reason.TARGET_POD_CHANGED,
          "pod " + pod.name() + " was deleted or replaced before its devices took state");
    }
    Map<String, String> annotations = live.getMetadata().getAnnotations();
    if (annotations == null || !"true".equals(annotations.get(PodAnnotations.RESTORE_TARGET))) {
      throw new TaskFailure(
          Reason.TARGET_NOT_OPTED_IN,
          "pod "
              + pod.name()
              + " does not carry "
              + PodAnnotations.RESTORE_TARGET
              + ": \"true\" (any more); annotate it to let device state be restored into it");
    }
  }
}
