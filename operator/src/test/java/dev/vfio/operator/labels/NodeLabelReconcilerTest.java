package dev.vfio.operator.labels;

import static dev.vfio.operator.labels.CompatibilityLabelsTest.H100;
import static dev.vfio.operator.labels.CompatibilityLabelsTest.device;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vfio.api.v1alpha1.VfioNode;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

@EnableKubernetesMockClient(crud = true)
class NodeLabelReconcilerTest {
  KubernetesClient client;
  KubernetesMockServer server;

  @Test
  void theNodeGetsItsDevicesLabelLosesAStaleOneAndKeepsEveryOtherLabel() {
    String stale = "compat.vfio.dev/0123456789abcdef";
    nodeALabelled(Map.of("kubernetes.io/hostname", "node-a", stale, "true"));

    new NodeLabelReconciler(client).reconcile(vfioNode("node-a"), null);

    Map<String, String> labels = client.nodes().withName("node-a").get().getMetadata().getLabels();
    assertEquals("true", labels.get("compat.vfio.dev/" + H100.getCompatibilityKey()));
    // The mock server keeps a key a merge patch sets to null; the API server removes it (e2e
    // RestoreFromSnapshotTest).
    assertNull(labels.get(stale));
    assertEquals("node-a", labels.get("kubernetes.io/hostname"));
  }

  @Test
  void aNodeThatCarriesItsLabelsIsNotWritten() {
    nodeALabelled(Map.of("compat.vfio.dev/" + H100.getCompatibilityKey(), "true"));
    int before = server.getRequestCount();

    new NodeLabelReconciler(client).reconcile(vfioNode("node-a"), null);

    assertEquals(1, server.getRequestCount() - before, "the read only");
  }

  @Test
  void aVfioNodeWhoseNodeIsNotRegisteredYetIsLookedAtAgain() {
    Optional<Long> again =
        new NodeLabelReconciler(client).reconcile(vfioNode("node-x"), null).getScheduleDelay();

    assertTrue(again.isPresent());
    assertTrue(again.get() <= Duration.ofMinutes(1).toMillis());
  }

  @Test
  void onlyAChangeOfTheLabelsADeviceCallsForIsAnEvent() {
    NodeLabelReconciler.LabelsChanged filter = new NodeLabelReconciler.LabelsChanged();
    VfioNode heartbeat = vfioNode("node-a");
    heartbeat.getStatus().setHeartbeatTime("2026-12-07T23:00:10Z");

    assertFalse(filter.accept(heartbeat, vfioNode("node-a")));
    assertTrue(filter.accept(CompatibilityLabelsTest.node(), vfioNode("node-a")));
  }

  void nodeALabelled(Map<String, String> labels) {
    client
        .nodes()
        .resource(
            new NodeBuilder()
                .withNewMetadata()
                .withName("node-a")
                .withLabels(labels)
                .endMetadata()
                .build())
        .create();
  }

  static VfioNode vfioNode(String name) {
    VfioNode node = CompatibilityLabelsTest.node(device(H100, "STOP_COPY"));
    node.setMetadata(new ObjectMetaBuilder().withName(name).build());
    return node;
  }
}
