package dev.vfio.operator.status;

import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The one place the operator writes the status of its resources: a JSON patch of the status
 * subresource that replaces the whole computed status, sent only when it differs from what is
 * stored. The operator is the only writer of these statuses, so no resourceVersion precondition
 * is needed. Why a JSON patch and not a merge patch: docs/decisions/0001-status-patches.md.
 *
 * <p>A status is computed from the resource a reconciliation was given, which comes from the
 * informer cache; right after a write the cache can still hold the version written over, and a
 * status computed from it would undo the write. So the patcher remembers what it wrote over and
 * {@link #fresh} swaps the written status back in while the cache lags.
 */
public final class StatusPatcher {
  private final KubernetesClient client;
  private final Map<String, Written> written = new ConcurrentHashMap<>();

  private record Written(String overVersion, String status, Class<?> type) {}

  public StatusPatcher(KubernetesClient client) {
    this.client = client;
  }

  /** {@code resource} with the status last written, if the cache has not caught up with that write yet. */
  public <S, R extends CustomResource<?, S>> R fresh(R resource) {
    Written last = written.get(resource.getMetadata().getUid());
    if (last == null) {
      return resource;
    }
    if (!Objects.equals(last.overVersion(), resource.getMetadata().getResourceVersion())) {
      written.remove(resource.getMetadata().getUid());
      return resource;
    }
    R copy = Serialization.clone(resource);
    @SuppressWarnings("unchecked")
    Class<S> statusType = (Class<S>) last.type();
    copy.setStatus(Serialization.unmarshal(last.status(), statusType));
    return copy;
  }

  /** Patches {@code status} onto {@code resource} if it changed; returns whether it did. */
  public <S, R extends CustomResource<?, S>> boolean patchIfChanged(R resource, S status) {
    String json = Serialization.asJson(status);
    if (Objects.equals(Serialization.asJson(resource.getStatus()), json)) {
      return false;
    }
    String body = Serialization.asJson(List.of(Map.of("op", "add", "path", "/status", "value", status)));
    // Through the object in hand, not withName(): by name, the client reads the object from the
    // server before every patch, which doubled the requests of each status write.
    client.resource(resource).subresource("status").patch(PatchContext.of(PatchType.JSON), body);
    written.put(resource.getMetadata().getUid(),
        new Written(resource.getMetadata().getResourceVersion(), json, status.getClass()));
    return true;
  }

  /** Forgets a resource that is gone. */
  public void forget(String uid) {
    written.remove(uid);
  }
}
