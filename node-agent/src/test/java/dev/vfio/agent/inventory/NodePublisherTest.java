package dev.vfio.agent.inventory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.vfio.agent.devices.DeviceDetails;
import dev.vfio.agent.metrics.AgentMetrics;
import dev.vfio.agent.pods.NodePods;
import dev.vfio.agent.vfio.DeviceIdentity;
import dev.vfio.agent.vfio.MigrationFlags;
import dev.vfio.agent.vfio.MigrationProtocol;
import dev.vfio.api.v1alpha1.NodeDevice;
import dev.vfio.api.v1alpha1.SetAsideJournalEntry;
import dev.vfio.api.v1alpha1.VfioNode;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.InputStream;
import java.time.Clock;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

@EnableKubernetesMockClient(crud = true)
class NodePublisherTest {
  KubernetesClient client;
  KubernetesMockServer server;
  NodePods pods;
  NodePublisher publisher;

  @BeforeEach
  void installCrd() throws Exception {
    try (InputStream crd =
        getClass().getResourceAsStream("/META-INF/fabric8/vfionodes.vfio.dev-v1.yml")) {
      client.resource(Serialization.unmarshal(crd, CustomResourceDefinition.class)).create();
    }
    pods = new NodePods(client, "node-a");
    pods.start();
    publisher = publisher(() -> null);
  }

  NodePublisher publisher(Supplier<List<SetAsideJournalEntry>> setAside) {
    return new NodePublisher(
        client,
        pods,
        "node-a",
        "simulated",
        "0.1.0",
        "6.1.0",
        List::of,
        pod -> List.of(),
        List::of,
        setAside,
        Clock.systemUTC(),
        new AgentMetrics());
  }

  @AfterEach
  void stopWatch() {
    pods.close();
  }

  @Test
  void theFirstPublishCreatesTheNode() {
    publisher.publish();

    VfioNode node = client.resources(VfioNode.class).withName("node-a").get();
    assertEquals(
        "vfio-node-agent", node.getMetadata().getLabels().get("app.kubernetes.io/managed-by"));
    assertNotNull(node.getStatus().getHeartbeatTime());
  }

  @Test
  void journalEntriesSetAsideAreListedOnTheNodeAndDropWhenAnAdminRemovesThem() {
    SetAsideJournalEntry entry = new SetAsideJournalEntry();
    entry.setFile("task-uid.json");
    entry.setReason("could not thaw pod default/gpu-workload: stuck");
    entry.setSetAsideTime("2026-12-01T10:00:00Z");
    AtomicReference<List<SetAsideJournalEntry>> quarantine = new AtomicReference<>(List.of(entry));
    NodePublisher publisher = publisher(quarantine::get);

    publisher.publish();
    List<SetAsideJournalEntry> listed =
        client
            .resources(VfioNode.class)
            .withName("node-a")
            .get()
            .getStatus()
            .getSetAsideJournalEntries();
    assertEquals(1, listed.size());
    assertEquals("task-uid.json", listed.get(0).getFile());
    assertEquals("could not thaw pod default/gpu-workload: stuck", listed.get(0).getReason());

    quarantine.set(null);
    publisher.publish();
    assertNull(
        client
            .resources(VfioNode.class)
            .withName("node-a")
            .get()
            .getStatus()
            .getSetAsideJournalEntries());
  }

  @Test
  void aDeviceSpeakingOnlyTheV1ProtocolIsListedWithWhyItCannotMigrate() {
    DeviceIdentity v1 = new DeviceIdentity("0000:3b:00.0", "nvidia-vgpu", "10de", "1eb8", "12");
    DeviceIdentity v2 = new DeviceIdentity("0000:41:00.2", "mlx5_vfio_pci", "15b3", "101e", "40");
    DeviceIdentity unasked =
        new DeviceIdentity("0000:41:00.3", "mlx5_vfio_pci", "15b3", "101e", "41");
    NodePublisher publisher =
        new NodePublisher(
            client,
            pods,
            "node-a",
            "kernel",
            "0.1.0",
            "5.15.0",
            () ->
                List.of(
                    new InventoryDevice(
                        v1,
                        Optional.empty(),
                        DeviceDetails.UNKNOWN,
                        MigrationFlags.NONE,
                        null,
                        null,
                        MigrationProtocol.V1),
                    new InventoryDevice(
                        v2,
                        Optional.empty(),
                        DeviceDetails.UNKNOWN,
                        new MigrationFlags(MigrationFlags.STOP_COPY),
                        null,
                        null,
                        MigrationProtocol.V2),
                    new InventoryDevice(
                        unasked,
                        Optional.empty(),
                        DeviceDetails.UNKNOWN,
                        MigrationFlags.NONE,
                        null,
                        null,
                        null)),
            pod -> List.of(),
            List::of,
            () -> null,
            Clock.systemUTC(),
            new AgentMetrics());

    publisher.publish();

    List<NodeDevice> devices =
        client.resources(VfioNode.class).withName("node-a").get().getStatus().getDevices();
    assertEquals("V1", devices.get(0).getMigrationProtocol());
    assertEquals(
        "MigrationProtocolV1: speaks the v1 migration region protocol, which vfio-operator does"
            + " not support; needs a kernel ≥ 5.18 with a v2 driver",
        devices.get(0).getNotMigratableReason());
    assertEquals(List.of(), devices.get(0).getMigrationFlags());
    assertEquals("V2", devices.get(1).getMigrationProtocol());
    assertEquals(
        List.of("STOP_COPY"),
        devices.get(1).getFingerprint().getMigrationFlags(),
        "each device carries its fingerprint");
    assertEquals(
        devices.get(1).getFingerprint().computeKey(),
        devices.get(1).getFingerprint().getCompatibilityKey());
    assertNull(devices.get(1).getNotMigratableReason());
    assertNull(devices.get(2).getMigrationProtocol(), "a device the agent could not ask");
    assertNull(devices.get(2).getNotMigratableReason());
  }

  @Test
  void aHeartbeatOnAnExistingNodeWritesOnlyItsStatus() {
    publisher.publish();
    String first =
        client.resources(VfioNode.class).withName("node-a").get().getStatus().getHeartbeatTime();
    int before = server.getRequestCount();

    publisher.publish();

    assertEquals(
        1, server.getRequestCount() - before, "the status patch; the pods come from the watch");
    assertNotNull(first);
  }
}
