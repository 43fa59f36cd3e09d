package dev.vfio.operator.labels;

import dev.vfio.api.v1alpha1.VfioNode;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.javaoperatorsdk.operator.api.config.informer.Informer;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.MaxReconciliationInterval;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.source.filter.OnUpdateFilter;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps each node's {@code compat.vfio.dev/<key>} labels equal to what its VfioNode's devices call
 * for ({@link CompatibilityLabels}), so that a restore or migration target can be scheduled with a
 * plain nodeSelector. The operator writes them, not the agents, as node-feature-discovery's master
 * does: an agent keeps no write access to Node objects, and the chart's admission policy lets the
 * operator change nothing of a Node but these labels.
 *
 * <p>Heartbeats rewrite a VfioNode's status every few seconds; only a change of the labels it calls
 * for is an event here. The periodic pass restores a label someone removed by hand. A VfioNode
 * deleted leaves its labels until the agent publishes it again (docs/hardware.md).
 */
@ControllerConfiguration(
    name = "node-labels",
    generationAwareEventProcessing = false,
    informer = @Informer(onUpdateFilter = NodeLabelReconciler.LabelsChanged.class),
    maxReconciliationInterval =
        @MaxReconciliationInterval(interval = 10, timeUnit = TimeUnit.MINUTES))
public class NodeLabelReconciler implements Reconciler<VfioNode> {
  private static final Logger LOG = LoggerFactory.getLogger(NodeLabelReconciler.class);
  private static final Duration NO_NODE_RETRY = Duration.ofSeconds(30);
  private final KubernetesClient client;

  public NodeLabelReconciler(KubernetesClient client) {
    this.client = client;
  }

  /** Passes an update only when the labels its devices call for changed. */
  public static final class LabelsChanged implements OnUpdateFilter<VfioNode> {
    @Override
    public boolean accept(VfioNode updated, VfioNode old) {
      return !CompatibilityLabels.of(updated).equals(CompatibilityLabels.of(old));
    }
  }

  @Override
  public UpdateControl<VfioNode> reconcile(VfioNode vfioNode, Context<VfioNode> context) {
    String name = vfioNode.getMetadata().getName();
    Node node = client.nodes().withName(name).get();
    if (node == null) {
      // Not registered yet, or gone: a Node's arrival is no event here (the operator does not
      // watch Nodes, which would hold every Node of the cluster in memory), so look again.
      LOG.debug("VfioNode {} has no Node of that name yet; looking again later", name);
      return UpdateControl.<VfioNode>noUpdate().rescheduleAfter(NO_NODE_RETRY);
    }
    Set<String> desired = CompatibilityLabels.of(vfioNode);
    Map<String, String> changes =
        CompatibilityLabels.changes(node.getMetadata().getLabels(), desired);
    if (!changes.isEmpty()) {
      // A merge patch names only these labels: whatever else changed on the Node meanwhile stays.
      client
          .nodes()
          .withName(name)
          .patch(
              PatchContext.of(PatchType.JSON_MERGE),
              Serialization.asJson(Map.of("metadata", Map.of("labels", changes))));
      LOG.info("node {}: compatibility labels now {}", name, desired);
    }
    return UpdateControl.noUpdate();
  }
}
