package dev.vfio.agent.tasks;

import dev.vfio.api.v1alpha1.VfioNodeTask;
import dev.vfio.api.v1alpha1.VfioNodeTaskStatus;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.net.HttpURLConnection;
import java.util.List;
import java.util.Map;

/**
 * Writes task status, the agent's half of the task contract, as a JSON patch that replaces the
 * whole status (docs/decisions/0001-status-patches.md). The claim also sets the resourceVersion the
 * agent saw, which the API server takes as a precondition, so that two agent processes (a DaemonSet
 * rollout overlap) can never both run one task: the second gets 409 Conflict.
 */
public final class TaskStatusWriter implements TaskStore {
  private final KubernetesClient client;

  public TaskStatusWriter(KubernetesClient client) {
    this.client = client;
  }

  /** Claims the task if it is still as seen; returns false when someone else changed it first. */
  public boolean claim(VfioNodeTask seen, VfioNodeTaskStatus running) {
    return writeIfUnchanged(seen, running);
  }

  @Override
  public VfioNodeTask read(VfioNodeTask task) {
    // A list, not a get: agents are granted what their watch needs (list, watch), no more.
    return client
        .resources(VfioNodeTask.class)
        .inNamespace(task.getMetadata().getNamespace())
        .withField("metadata.name", task.getMetadata().getName())
        .list()
        .getItems()
        .stream()
        .findFirst()
        .orElse(null);
  }

  @Override
  public boolean writeIfUnchanged(VfioNodeTask seen, VfioNodeTaskStatus status) {
    List<Map<String, Object>> body =
        List.of(
            Map.of(
                "op",
                "add",
                "path",
                "/metadata/resourceVersion",
                "value",
                seen.getMetadata().getResourceVersion()),
            Map.of("op", "add", "path", "/status", "value", status));
    try {
      patch(seen, Serialization.asJson(body));
      return true;
    } catch (KubernetesClientException e) {
      if (e.getCode() == HttpURLConnection.HTTP_CONFLICT
          || e.getCode() == HttpURLConnection.HTTP_NOT_FOUND) {
        return false;
      }
      throw e;
    }
  }

  /** Writes the whole status; the claiming agent is its only writer from now on. */
  public void write(VfioNodeTask task, VfioNodeTaskStatus status) {
    patch(
        task,
        Serialization.asJson(List.of(Map.of("op", "add", "path", "/status", "value", status))));
  }

  private void patch(VfioNodeTask task, String body) {
    // Through the task in hand, not withName(): by name, the client reads the task from the server
    // before every patch, which doubled the requests of every status write.
    client.resource(task).subresource("status").patch(PatchContext.of(PatchType.JSON), body);
  }
}
