package dev.vfio.e2e;

import static dev.vfio.e2e.RestoreFromSnapshotTest.awaitMigration;
import static dev.vfio.e2e.RestoreFromSnapshotTest.createMigration;
import static dev.vfio.e2e.RestoreFromSnapshotTest.deviceState;
import static dev.vfio.e2e.RestoreFromSnapshotTest.restoreStatus;
import static dev.vfio.e2e.RestoreFromSnapshotTest.restoreTarget;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.vfio.agent.sim.SimulatedFreezer;
import dev.vfio.api.v1alpha1.Conditions;
import dev.vfio.api.v1alpha1.MigrationPhase;
import dev.vfio.api.v1alpha1.Reason;
import dev.vfio.api.v1alpha1.SnapshotPhase;
import dev.vfio.api.v1alpha1.Transport;
import dev.vfio.api.v1alpha1.VfioMigration;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Live migration through a blob on the storage claim: Save on the source, Load on the target. */
class StorageMigrationTest extends ClusterTest {
  static final long SIZE = 2 << 20;

  @BeforeAll
  static void start(@TempDir Path work) throws Exception {
    startCluster(
        work,
        List.of(
            SimulatedNode.Device.of("0000:3b:00.0", SIZE),
            SimulatedNode.Device.of("0000:3c:00.0", SIZE),
            SimulatedNode.Device.of("0000:3d:00.0", SIZE),
            SimulatedNode.Device.of("0000:3e:00.0", SIZE)),
        List.of(
            SimulatedNode.Device.of("0000:af:00.0", SIZE),
            SimulatedNode.Device.of("0000:af:00.1", SIZE),
            SimulatedNode.Device.of("0000:b0:00.0", SIZE)
                .with("faults", Map.of("rejectResumeData", true))));
  }

  @Test
  void migrationThroughStorageMovesTheStateAndCleansUpItsBlobs() throws Exception {
    cluster.runningPod(NS, "st-source", "node-a", "0000:3b:00.0");
    restoreTarget("st-target", "node-b", "0000:af:00.0");

    createMigration(
        "through-storage",
        spec -> {
          spec.getSource().setPodName("st-source");
          spec.setTransport(Transport.Storage);
        },
        "st-target");
    VfioMigration done = awaitMigration("through-storage", MigrationPhase.Succeeded);

    assertEquals("0000:3b:00.0", deviceState("node-b", "0000:af:00.0").getProperty("origin"));
    assertEquals(
        "STOP",
        deviceState("node-a", "0000:3b:00.0").getProperty("state"),
        "the source stays stopped");
    assertEquals("Succeeded", restoreStatus("st-target"));
    Path transfer = cluster.storage().resolve(NS).resolve("vmig-" + done.getMetadata().getUid());
    await("transfer blobs removed").atMost(PATIENCE).until(() -> !Files.exists(transfer));
  }

  @Test
  void aSnapshotOfTheSameNameNeitherStandsInForTheMigrationsSaveNorTakesIt() throws Exception {
    cluster.runningPod(NS, "twin-snapshotted", "node-a", "0000:3d:00.0");
    createSnapshot("twin", "twin-snapshotted", spec -> {});
    awaitPhase("twin", SnapshotPhase.Ready);
    cluster.runningPod(NS, "twin-source", "node-a", "0000:3e:00.0");
    restoreTarget("twin-target", "node-b", "0000:af:00.1");

    createMigration(
        "twin",
        spec -> {
          spec.getSource().setPodName("twin-source");
          spec.setTransport(Transport.Storage);
        },
        "twin-target");
    awaitMigration("twin", MigrationPhase.Succeeded);

    assertEquals(
        "0000:3e:00.0",
        deviceState("node-b", "0000:af:00.1").getProperty("origin"),
        "the target runs the migration's source, not the snapshot's pod");
    assertEquals(
        "RUNNING",
        deviceState("node-a", "0000:3d:00.0").getProperty("state"),
        "the snapshotted pod runs on");
    assertEquals(SnapshotPhase.Ready, cluster.snapshot(NS, "twin").getStatus().getPhase());
  }

  @Test
  void targetThatRejectsTheStateGetsResetAndTheSourceRunsAgain() throws Exception {
    cluster.runningPod(NS, "rj-source", "node-a", "0000:3c:00.0");
    restoreTarget("rj-target", "node-b", "0000:b0:00.0");

    createMigration(
        "rejected",
        spec -> {
          spec.getSource().setPodName("rj-source");
          spec.setTransport(Transport.Storage);
        },
        "rj-target");
    VfioMigration failed = awaitMigration("rejected", MigrationPhase.Failed);

    assertEquals(
        Reason.STATE_REJECTED.wire(),
        Conditions.find(failed.getStatus().getConditions(), Conditions.READY).getReason());
    assertEquals(
        "RUNNING",
        deviceState("node-a", "0000:3c:00.0").getProperty("state"),
        "the source runs again");
    String uid = client.pods().inNamespace(NS).withName("rj-source").get().getMetadata().getUid();
    assertFalse(
        Files.exists(SimulatedFreezer.marker(cluster.node("node-a").simulationDirectory(), uid)),
        "thawed");
    assertEquals(
        "RUNNING",
        deviceState("node-b", "0000:b0:00.0").getProperty("state"),
        "the target was reset");
    assertEquals("Failed", restoreStatus("rj-target"));
  }
}
