package dev.vfio.e2e;

import static dev.vfio.e2e.RestoreFromSnapshotTest.awaitMigration;
import static dev.vfio.e2e.RestoreFromSnapshotTest.createMigration;
import static dev.vfio.e2e.RestoreFromSnapshotTest.restoreStatus;
import static dev.vfio.e2e.RestoreFromSnapshotTest.restoreTarget;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vfio.api.v1alpha1.MigrationPhase;
import dev.vfio.api.v1alpha1.SnapshotPhase;
import dev.vfio.api.v1alpha1.VfioNodeTask;
import dev.vfio.api.v1alpha1.VfioSnapshot;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The longest and most awkward names the API server accepts, end to end: every object the operator
 * derives from them (tasks, Events, labels, blob directories) is one the API server accepts too,
 * and the troubleshooting guide's commands find them.
 */
class LongNamesTest extends ClusterTest {
  /**
   * 253 characters with a dot exactly where a task name of the longest roles is cut: index 228
   * ({@code delete-blobs}) and 236 ({@code save}).
   */
  static final String SNAPSHOT = "a".repeat(228) + "." + "b".repeat(7) + "." + "c".repeat(16);

  /** 253 characters of digits and dashes, with a dot where a {@code load} task name is cut. */
  static final String MIGRATION = "1-2".repeat(78) + "12" + "." + "9".repeat(16);

  static final String SOURCE_POD = "p".repeat(252) + "0";
  static final String TARGET_POD = "0.t" + "-".repeat(249) + "t";

  @BeforeAll
  static void start(@TempDir Path work) throws Exception {
    assertEquals(253, SNAPSHOT.length());
    assertEquals(253, MIGRATION.length());
    assertEquals(253, TARGET_POD.length());
    startCluster(
        work,
        List.of(SimulatedNode.Device.of("0000:3b:00.0", 1 << 20)),
        List.of(SimulatedNode.Device.of("0000:af:00.0", 1 << 20)));
    cluster.runningPod(NS, SOURCE_POD, "node-a", "0000:3b:00.0");
  }

  @Test
  void aSnapshotAndARestoreOfTheLongestNamesSucceedAndTheirTasksAreFoundAsTheGuideSays()
      throws Exception {
    createSnapshot(SNAPSHOT, SOURCE_POD, spec -> {});
    VfioSnapshot ready = awaitPhase(SNAPSHOT, SnapshotPhase.Ready);
    assertTrue(
        Files.exists(
            cluster.storage().resolve(ready.getStatus().getDevices().get(0).getBlobPath())));

    // docs/troubleshooting.md: kubectl get vtask -o wide -l vfio.dev/parent-uid=$(kubectl get vsnap
    // <name> -o jsonpath='{.metadata.uid}')
    Kubectl kubectl = cluster.kubectl();
    String uid = kubectl.ok("get", "vsnap", SNAPSHOT, "-o", "jsonpath={.metadata.uid}");
    String tasks = kubectl.ok("get", "vtask", "-o", "wide", "-l", "vfio.dev/parent-uid=" + uid);
    assertTrue(
        tasks.lines().anyMatch(line -> line.contains("Save") && line.contains("Succeeded")), tasks);
    assertTrue(
        client.v1().events().inNamespace(NS).list().getItems().stream()
            .anyMatch(
                e ->
                    SNAPSHOT.equals(e.getInvolvedObject().getName())
                        && "Ready".equals(e.getReason())),
        "an Event about the snapshot was recorded");

    restoreTarget(TARGET_POD, "node-b", "0000:af:00.0");
    createMigration(MIGRATION, spec -> spec.getSource().setSnapshotName(SNAPSHOT), TARGET_POD);
    awaitMigration(MIGRATION, MigrationPhase.Succeeded);
    assertEquals("Succeeded", restoreStatus(TARGET_POD));

    client.resource(ready).delete();
    await("snapshot gone").atMost(PATIENCE).until(() -> cluster.snapshot(NS, SNAPSHOT) == null);
    assertFalse(
        Files.exists(cluster.storage().resolve(NS).resolve(SNAPSHOT)), "its blobs were deleted");
    await("its tasks collected")
        .atMost(PATIENCE)
        .until(
            () ->
                client
                    .resources(VfioNodeTask.class)
                    .inNamespace(NS)
                    .withLabel("vfio.dev/parent-uid", uid)
                    .list()
                    .getItems()
                    .isEmpty());
  }
}
