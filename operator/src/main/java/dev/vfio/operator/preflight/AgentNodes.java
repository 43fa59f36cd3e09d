package dev.vfio.operator.preflight;

import dev.vfio.api.v1alpha1.VfioNode;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The VfioNodes — each node's agent heartbeat and inventory — as a watch sees them, read without a
 * request. Never a trigger: a heartbeat concerns no resource in particular.
 */
public final class AgentNodes<P extends HasMetadata> {
  private final KubernetesClient client;

  /** Null until JOSDK asks the reconciler for its event sources; then every read comes from it. */
  private InformerEventSource<VfioNode, P> source;

  public AgentNodes(KubernetesClient client) {
    this.client = client;
  }

  public InformerEventSource<VfioNode, P> eventSource(EventSourceContext<P> context) {
    var configuration =
        InformerEventSourceConfiguration.from(VfioNode.class, context.getPrimaryResourceClass())
            .withName("vfionodes")
            .withSecondaryToPrimaryMapper(node -> Set.of())
            .build();
    source = new InformerEventSource<>(configuration, context);
    return source;
  }

  /**
   * The node's VfioNode from the watch; from the API server only when the watch has not seen it
   * yet, so that a lagging cache never refuses an operation for want of an agent.
   */
  public VfioNode get(String name) {
    var cached = source == null ? Optional.<VfioNode>empty() : source.get(new ResourceID(name));
    return cached.orElseGet(() -> client.resources(VfioNode.class).withName(name).get());
  }

  public List<VfioNode> list() {
    return source == null
        ? client.resources(VfioNode.class).list().getItems()
        : source.list().toList();
  }
}
