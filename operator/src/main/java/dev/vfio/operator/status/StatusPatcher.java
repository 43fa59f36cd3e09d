package dev.vfio.operator.status;

import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The one place the operator writes the status of its resources: a JSON patch of the status
 * subresource that replaces the whole computed status, sent only when it differs from what is
 * stored. The operator is the only writer of these statuses, so no resourceVersion precondition
 * is needed. Why a JSON patch and not a merge patch: docs/decisions/0001-status-patches.md.
 */
public final class StatusPatcher {
  private final KubernetesClient client;

  public StatusPatcher(KubernetesClient client) {
    this.client = client;
  }

  /** Patches {@code status} onto {@code resource} if it changed; returns whether it did. */
  public <S, R extends CustomResource<?, S>> boolean patchIfChanged(R resource, S status) {
    if (Objects.equals(Serialization.asJson(resource.getStatus()), Serialization.asJson(status))) {
      return false;
    }
    String body = Serialization.asJson(List.of(Map.of("op", "add", "path", "/status", "value", status)));
    @SuppressWarnings("unchecked")
    Class<R> type = (Class<R>) resource.getClass();
    client.resources(type)
        .inNamespace(resource.getMetadata().getNamespace())
        .withName(resource.getMetadata().getName())
        .subresource("status")
        .patch(PatchContext.of(PatchType.JSON), body);
    return true;
  }
}
