package dev.vfio.e2e;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vfio.agent.blobs.BlobAuthentication;
import dev.vfio.agent.blobs.BlobKey;
import dev.vfio.agent.blobs.BlobReader;
import dev.vfio.api.v1alpha1.Condition;
import dev.vfio.api.v1alpha1.Conditions;
import dev.vfio.api.v1alpha1.MigrationPhase;
import dev.vfio.api.v1alpha1.MigrationSource;
import dev.vfio.api.v1alpha1.NodeLabels;
import dev.vfio.api.v1alpha1.Reason;
import dev.vfio.api.v1alpha1.SnapshotPhase;
import dev.vfio.api.v1alpha1.VfioMigration;
import dev.vfio.api.v1alpha1.VfioMigrationSpec;
import dev.vfio.api.v1alpha1.VfioNode;
import dev.vfio.api.v1alpha1.VfioSnapshot;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * VfioMigration from a stored snapshot: the state arrives in another pod's devices on another node.
 */
class RestoreFromSnapshotTest extends ClusterTest {
  static final long SIZE = 2 << 20;

  @BeforeAll
  static void start(@TempDir Path work) throws Exception {
    startCluster(
        work,
        List.of(
            SimulatedNode.Device.of("0000:3b:00.0", SIZE),
            SimulatedNode.Device.of("0000:3b:00.1", SIZE),
            SimulatedNode.Device.of("0000:3c:00.0", SIZE),
            SimulatedNode.Device.of("0000:3d:00.0", SIZE),
            SimulatedNode.Device.of("0000:3e:00.0", SIZE).with("revision", "a1")),
        List.of(
            SimulatedNode.Device.of("0000:af:00.0", SIZE),
            SimulatedNode.Device.of("0000:af:00.1", SIZE),
            SimulatedNode.Device.of("0000:b0:00.0", SIZE),
            SimulatedNode.Device.of("0000:b1:00.0", SIZE),
            SimulatedNode.Device.of("0000:b2:00.0", SIZE).with("deviceId", "1eb8"),
            SimulatedNode.Device.of("0000:b3:00.0", SIZE).with("revision", "a2")));
  }

  @Test
  void snapshotIsRestoredIntoAnotherPodOnAnotherNode() throws Exception {
    cluster.runningPod(NS, "origin", "node-a", "0000:3b:00.0", "0000:3b:00.1");
    VfioSnapshot snapshot = snapshotOf("origin-snap", "origin");
    restoreTarget("restored", "node-b", "0000:af:00.0", "0000:af:00.1");

    createMigration("restore", spec -> spec.getSource().setSnapshotName("origin-snap"), "restored");
    VfioMigration done = awaitMigration("restore", MigrationPhase.Succeeded);

    assertEquals("node-b", done.getStatus().getTargetNode());
    assertEquals(2, done.getStatus().getDevices().size());
    for (var saved : snapshot.getStatus().getDevices()) {
      String target = saved.getAddress().equals("0000:3b:00.0") ? "0000:af:00.0" : "0000:af:00.1";
      Properties device = deviceState("node-b", target);
      assertEquals(
          saved.getAddress(), device.getProperty("origin"), "the target runs the source's state");
      assertEquals(
          verifiedEpoch(
              cluster.storage().resolve(saved.getBlobPath()), snapshot, saved.getAddress()),
          Long.parseLong(device.getProperty("epoch")));
      assertEquals("RUNNING", device.getProperty("state"));
    }
    assertEquals("Succeeded", restoreStatus("restored"));
    // Sealed with the key the operator made in the chart's Secret, which the agents mount.
    byte[] key =
        Base64.getDecoder()
            .decode(
                client
                    .secrets()
                    .inNamespace(ChartRoles.NAMESPACE)
                    .withName("vfio-operator-blob-key")
                    .get()
                    .getData()
                    .get("blob.key"));
    try (BlobReader blob =
        BlobReader.open(
            cluster.storage().resolve(snapshot.getStatus().getDevices().get(0).getBlobPath()))) {
      assertEquals(BlobAuthentication.AES_256_GCM, blob.header().seal().authentication());
      assertEquals(BlobKey.of(key).id(), blob.header().seal().keyId());
    }
  }

  @Test
  void corruptedBlobIsRefusedBeforeItReachesTheTargetDevice() throws Exception {
    cluster.runningPod(NS, "origin-2", "node-a", "0000:3c:00.0");
    VfioSnapshot snapshot = snapshotOf("corrupt-snap", "origin-2");
    Path blob = cluster.storage().resolve(snapshot.getStatus().getDevices().get(0).getBlobPath());
    try (RandomAccessFile file = new RandomAccessFile(blob.toFile(), "rw")) {
      file.seek(file.length() / 2);
      int b = file.read();
      file.seek(file.length() / 2);
      file.write(b ^ 0x5a);
    }
    restoreTarget("corrupt-target", "node-b", "0000:b0:00.0");
    String before = deviceState("node-b", "0000:b0:00.0").getProperty("origin");

    createMigration(
        "restore-corrupt",
        spec -> spec.getSource().setSnapshotName("corrupt-snap"),
        "corrupt-target");
    VfioMigration failed = awaitMigration("restore-corrupt", MigrationPhase.Failed);

    Condition ready = Conditions.find(failed.getStatus().getConditions(), Conditions.READY);
    assertEquals(Reason.BLOB_CORRUPT.wire(), ready.getReason());
    assertTrue(ready.getMessage().contains("no device was touched"), ready.getMessage());
    Properties device = deviceState("node-b", "0000:b0:00.0");
    assertEquals(before, device.getProperty("origin"), "the target device never saw a byte");
    assertEquals("RUNNING", device.getProperty("state"));
    assertEquals("Failed", restoreStatus("corrupt-target"));
  }

  @Test
  void incompatibleTargetDeviceIsRefusedBeforeAnythingMoves() throws Exception {
    cluster.runningPod(NS, "origin-3", "node-a", "0000:3d:00.0");
    VfioSnapshot snapshot = snapshotOf("other-model-snap", "origin-3");
    restoreTarget("other-model", "node-b", "0000:b2:00.0");

    createMigration(
        "restore-incompatible",
        spec -> spec.getSource().setSnapshotName(snapshot.getMetadata().getName()),
        "other-model");
    VfioMigration failed = awaitMigration("restore-incompatible", MigrationPhase.Failed);

    assertEquals(
        Reason.INCOMPATIBLE_DEVICES.wire(),
        Conditions.find(failed.getStatus().getConditions(), Conditions.READY).getReason());
  }

  @Test
  void aTargetOfTheSameIdsButAnotherRevisionIsRefusedNamingItBeforeAnythingMoves()
      throws Exception {
    cluster.runningPod(NS, "origin-4", "node-a", "0000:3e:00.0");
    VfioSnapshot snapshot = snapshotOf("revision-snap", "origin-4");
    assertEquals("a1", snapshot.getStatus().getDevices().get(0).getFingerprint().getRevision());
    restoreTarget("other-revision", "node-b", "0000:b3:00.0");
    String before = deviceState("node-b", "0000:b3:00.0").getProperty("origin");

    createMigration(
        "restore-other-revision",
        spec -> spec.getSource().setSnapshotName("revision-snap"),
        "other-revision");
    VfioMigration failed = awaitMigration("restore-other-revision", MigrationPhase.Failed);

    Condition ready = Conditions.find(failed.getStatus().getConditions(), Conditions.READY);
    assertEquals(Reason.INCOMPATIBLE_DEVICES.wire(), ready.getReason());
    assertTrue(ready.getMessage().contains("revision (a1 vs a2)"), ready.getMessage());
    assertTrue(
        ready
            .getMessage()
            .contains(
                NodeLabels.compatibility(
                    snapshot.getStatus().getDevices().get(0).getFingerprint().computeKey())),
        ready.getMessage());
    Properties device = deviceState("node-b", "0000:b3:00.0");
    assertEquals(before, device.getProperty("origin"), "the target device never saw a byte");
    assertEquals("RUNNING", device.getProperty("state"));
  }

  @Test
  void eachNodeIsLabelledWithTheCompatibilityKeysOfItsDevicesAndNoStaleOne() {
    String stale = NodeLabels.compatibility("0123456789abcdef");
    // No kubelet registers nodes here; the operator labels the Node once it exists.
    client
        .nodes()
        .resource(
            new NodeBuilder()
                .withNewMetadata()
                .withName("node-b")
                .withLabels(Map.of("topology.kubernetes.io/zone", "b", stale, "true"))
                .endMetadata()
                .withNewSpec()
                .endSpec()
                .build())
        .create();
    Set<String> expected =
        client.resources(VfioNode.class).withName("node-b").get().getStatus().getDevices().stream()
            .map(d -> NodeLabels.compatibility(d.getFingerprint().computeKey()))
            .collect(Collectors.toSet());
    assertEquals(3, expected.size(), "the default device, another device id, another revision");

    await("node-b labelled")
        .atMost(PATIENCE)
        .untilAsserted(() -> assertEquals(expected, compatibilityLabels(nodeLabels("node-b"))));
    assertEquals("b", nodeLabels("node-b").get("topology.kubernetes.io/zone"), "other labels stay");
  }

  static Map<String, String> nodeLabels(String node) {
    return client.nodes().withName(node).get().getMetadata().getLabels();
  }

  static Set<String> compatibilityLabels(Map<String, String> labels) {
    return labels.entrySet().stream()
        .filter(e -> e.getKey().startsWith(NodeLabels.COMPATIBILITY_PREFIX))
        .peek(e -> assertEquals(NodeLabels.PRESENT, e.getValue()))
        .map(Map.Entry::getKey)
        .collect(Collectors.toSet());
  }

  @Test
  void targetThatDidNotOptInIsNeverOverwritten() {
    cluster.runningPod(NS, "bystander", "node-b", "0000:b1:00.0");
    createMigration(
        "restore-bystander", spec -> spec.getSource().setSnapshotName("any-snapshot"), "bystander");
    VfioMigration failed = awaitMigration("restore-bystander", MigrationPhase.Failed);

    assertEquals(
        Reason.TARGET_NOT_OPTED_IN.wire(),
        Conditions.find(failed.getStatus().getConditions(), Conditions.READY).getReason());
  }

  static VfioSnapshot snapshotOf(String name, String pod) {
    createSnapshot(name, pod, spec -> {});
    return awaitPhase(name, SnapshotPhase.Ready);
  }

  static void restoreTarget(String name, String node, String... devices) {
    cluster.runningPod(NS, name, node, devices);
    client
        .pods()
        .inNamespace(NS)
        .withName(name)
        .edit(
            pod -> {
              pod.getMetadata().getAnnotations().put("vfio.dev/restore-target", "true");
              return pod;
            });
  }

  static VfioMigration createMigration(
      String name, Consumer<VfioMigrationSpec> customize, String target) {
    VfioMigration migration = new VfioMigration();
    migration.setMetadata(new ObjectMetaBuilder().withNamespace(NS).withName(name).build());
    VfioMigrationSpec spec = new VfioMigrationSpec();
    spec.setSource(new MigrationSource());
    spec.setTargetPodName(target);
    customize.accept(spec);
    migration.setSpec(spec);
    return client.resource(migration).create();
  }

  static VfioMigration awaitMigration(String name, MigrationPhase phase) {
    await(name + " " + phase)
        .atMost(PATIENCE)
        .until(
            () -> {
              VfioMigration migration =
                  client.resources(VfioMigration.class).inNamespace(NS).withName(name).get();
              MigrationPhase current =
                  migration.getStatus() == null ? null : migration.getStatus().getPhase();
              if (current != null
                  && current != phase
                  && (current == MigrationPhase.Succeeded || current == MigrationPhase.Failed)) {
                throw new AssertionError(
                    name
                        + " ended "
                        + current
                        + ": "
                        + io.fabric8.kubernetes.client.utils.Serialization.asYaml(
                            migration.getStatus()));
              }
              return current == phase;
            });
    return client.resources(VfioMigration.class).inNamespace(NS).withName(name).get();
  }

  static String restoreStatus(String pod) {
    Map<String, String> annotations =
        client.pods().inNamespace(NS).withName(pod).get().getMetadata().getAnnotations();
    return annotations.get("vfio.dev/restore-status");
  }

  /** The simulated device's own record: its migration state and whose state it runs. */
  static Properties deviceState(String node, String address) throws IOException {
    Properties properties = new Properties();
    try (var reader =
        Files.newBufferedReader(
            cluster
                .node(node)
                .simulationDirectory()
                .resolve("devices")
                .resolve(address.replace(":", "_") + ".properties"))) {
      properties.load(reader);
    }
    return properties;
  }
}
