package dev.vfio.operator.status;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import java.net.HttpURLConnection;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The one place the operator writes the status of its resources, once per reconciliation: a JSON
 * patch of the status subresource that replaces the whole computed status
 * (docs/decisions/0001-status-patches.md), sent only when it differs from the stored one.
 *
 * <p>A status is computed from the resource a reconciliation was given, which comes from the
 * informer cache, and the cache may lag behind the API server. Two things keep a status computed
 * from a stale copy from undoing a write, as JOSDK's {@code PrimaryUpdateAndCacheUtils} does it:
 * the patch carries the resourceVersion the status was computed from, which the API server takes as
 * a precondition (409 Conflict if the object changed since); and the written object goes into
 * JOSDK's overlay over the informer cache, so the next reconciliation sees it even before the watch
 * delivers it.
 */
public final class StatusWriter<R extends CustomResource<?, S>, S> {
  /** What {@link #write} did. */
  public enum Outcome {
    WRITTEN,
    UNCHANGED,
    /**
     * The stored object changed after the copy the status was computed from: nothing was written.
     */
    CONFLICT
  }

  /** Where a written resource is kept so that the next reconciliation sees it. */
  @FunctionalInterface
  public interface RecentWrites<R extends HasMetadata> {
    void remember(Context<R> context, R written, R over);
  }

  private final KubernetesClient client;
  private final RecentWrites<R> recentWrites;

  public StatusWriter(KubernetesClient client, RecentWrites<R> recentWrites) {
    this.client = client;
    this.recentWrites = recentWrites;
  }

  /** JOSDK's overlay over the informer cache of the primary resource. */
  public static <R extends CustomResource<?, ?>> RecentWrites<R> primaryCache() {
    return (context, written, over) ->
        context
            .eventSourceRetriever()
            .getControllerEventSource()
            .handleRecentResourceUpdate(ResourceID.fromResource(over), written, over);
  }

  /**
   * Stores {@code status} on {@code stored}, the copy it was computed from, unless it is there
   * already.
   */
  public Outcome write(R stored, S status, Context<R> context) {
    if (Objects.equals(Serialization.asJson(stored.getStatus()), Serialization.asJson(status))) {
      return Outcome.UNCHANGED;
    }
    String body =
        Serialization.asJson(
            List.of(
                Map.of(
                    "op",
                    "add",
                    "path",
                    "/metadata/resourceVersion",
                    "value",
                    stored.getMetadata().getResourceVersion()),
                Map.of("op", "add", "path", "/status", "value", status)));
    R written;
    try {
      // Through the object in hand, not withName(): by name, the client reads the object from the
      // server before every patch, which doubled the requests of each status write.
      written =
          client
              .resource(stored)
              .subresource("status")
              .patch(PatchContext.of(PatchType.JSON), body);
    } catch (KubernetesClientException e) {
      if (e.getCode() == HttpURLConnection.HTTP_CONFLICT) {
        return Outcome.CONFLICT;
      }
      throw e;
    }
    recentWrites.remember(context, written, stored);
    return Outcome.WRITTEN;
  }
}
