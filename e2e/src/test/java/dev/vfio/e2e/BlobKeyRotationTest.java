package dev.vfio.e2e;

import static dev.vfio.e2e.RestoreFromSnapshotTest.awaitMigration;
import static dev.vfio.e2e.RestoreFromSnapshotTest.createMigration;
import static dev.vfio.e2e.RestoreFromSnapshotTest.deviceState;
import static dev.vfio.e2e.RestoreFromSnapshotTest.restoreStatus;
import static dev.vfio.e2e.RestoreFromSnapshotTest.restoreTarget;
import static dev.vfio.e2e.RestoreFromSnapshotTest.snapshotOf;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import dev.vfio.agent.blobs.BlobKeyRing;
import dev.vfio.agent.blobs.BlobReader;
import dev.vfio.api.v1alpha1.MigrationPhase;
import dev.vfio.api.v1alpha1.VfioSnapshot;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An admin rotates the blob key by annotating its Secret (docs/day-2.md): new snapshots are sealed
 * with the new key, and a snapshot taken before the rotation is still restored after it.
 */
class BlobKeyRotationTest extends ClusterTest {
  static final long SIZE = 1 << 20;

  @BeforeAll
  static void start(@TempDir Path work) throws Exception {
    startCluster(
        work,
        List.of(
            SimulatedNode.Device.of("0000:3b:00.0", SIZE),
            SimulatedNode.Device.of("0000:3c:00.0", SIZE)),
        List.of(SimulatedNode.Device.of("0000:af:00.0", SIZE)));
  }

  @Test
  void aSnapshotTakenBeforeARotationIsRestoredAfterIt() throws Exception {
    cluster.runningPod(NS, "before", "node-a", "0000:3b:00.0");
    VfioSnapshot old = snapshotOf("before-rotation", "before");
    String oldKey = keyIdOf(old);

    client
        .secrets()
        .inNamespace(ChartRoles.NAMESPACE)
        .withName("vfio-operator-blob-key")
        .edit(
            secret ->
                new SecretBuilder(secret)
                    .editMetadata()
                    .addToAnnotations("vfio.dev/rotate-blob-key", "first")
                    .endMetadata()
                    .build());
    await("the operator rotates the blob key")
        .atMost(PATIENCE)
        .until(() -> blobKeySecret().getData().containsKey(BlobKeyRing.previousEntry(oldKey)));
    cluster.refreshBlobKey();

    cluster.runningPod(NS, "after", "node-a", "0000:3c:00.0");
    String newKey = keyIdOf(snapshotOf("after-rotation", "after"));
    assertNotEquals(oldKey, newKey, "a snapshot after the rotation is sealed with the new key");

    restoreTarget("restored", "node-b", "0000:af:00.0");
    createMigration(
        "restore-old", spec -> spec.getSource().setSnapshotName("before-rotation"), "restored");
    awaitMigration("restore-old", MigrationPhase.Succeeded);

    assertEquals("0000:3b:00.0", deviceState("node-b", "0000:af:00.0").getProperty("origin"));
    assertEquals("Succeeded", restoreStatus("restored"));
  }

  private static Secret blobKeySecret() {
    return client
        .secrets()
        .inNamespace(ChartRoles.NAMESPACE)
        .withName("vfio-operator-blob-key")
        .get();
  }

  private static String keyIdOf(VfioSnapshot snapshot) throws IOException {
    Path blob = cluster.storage().resolve(snapshot.getStatus().getDevices().get(0).getBlobPath());
    try (BlobReader reader = BlobReader.open(blob)) {
      return reader.header().seal().keyId();
    }
  }
}
