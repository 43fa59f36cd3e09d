package dev.vfio.agent.tasks;

import dev.vfio.agent.pods.NodePods;
import dev.vfio.agent.pods.PodRef;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The pods of tasks as the agent sees them: from the node's pod watch, annotated through the API server. */
public final class ApiServerPods implements TaskPods {
  /** Annotation on a restore target telling its workload how the restore went. */
  static final String RESTORE_STATUS = "vfio.dev/restore-status";
  private static final Logger LOG = LoggerFactory.getLogger(ApiServerPods.class);

  private final KubernetesClient client;
  private final NodePods pods;

  public ApiServerPods(KubernetesClient client, NodePods pods) {
    this.client = client;
    this.pods = pods;
  }

  @Override
  public Pod find(String namespace, String name, String uid) {
    return pods.find(namespace, name, uid);
  }

  @Override
  public void markRestore(PodRef pod, String outcome) {
    try {
      // Through a reference, not withName(), which would read the pod from the server first.
      Pod reference = new PodBuilder().withNewMetadata().withNamespace(pod.namespace()).withName(pod.name())
          .endMetadata().build();
      client.resource(reference).patch(PatchContext.of(PatchType.JSON_MERGE),
          "{\"metadata\":{\"annotations\":{\"" + RESTORE_STATUS + "\":\"" + outcome + "\"}}}");
    } catch (KubernetesClientException e) {
      LOG.warn("could not mark pod {} {}={}: {}", pod, RESTORE_STATUS, outcome, e.getMessage());
    }
  }
}
