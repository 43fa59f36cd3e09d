package dev.vfio.e2e;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vfio.api.v1alpha1.SnapshotPhase;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the README tells a user to type works: kubectl applies the shipped examples, lists the kinds
 * by their short names with their printer columns, explains the API, describes a snapshot with its
 * Events, and deletes it.
 */
class KubectlTest extends ClusterTest {
  private static Kubectl kubectl;

  @BeforeAll
  static void start(@TempDir Path work) throws Exception {
    startCluster(
        work,
        List.of(
            SimulatedNode.Device.of("0000:3b:00.0", 1 << 20),
            SimulatedNode.Device.of("0000:3b:00.1", 1 << 20)),
        List.of(SimulatedNode.Device.of("0000:5e:00.0", 1 << 20)));
    // The example pod as the scheduler and kubelet leave it; kubectl applies the snapshot of it.
    cluster.runningPod(NS, "gpu-workload", "node-a", "0000:3b:00.0", "0000:3b:00.1");
    kubectl = cluster.kubectl();
  }

  @Test
  void theSnapshotExampleAppliesListsDescribesAndDeletes() throws Exception {
    Path example = SourceTree.current().examples().resolve("snapshot.yaml");
    assertEquals(
        "vfiosnapshot.vfio.dev/gpu-workload-snapshot created",
        kubectl.ok("apply", "-f", example.toString()).strip());
    awaitPhase("gpu-workload-snapshot", SnapshotPhase.Ready);

    List<String> table = kubectl.ok("get", "vsnap").lines().toList();
    assertEquals(
        List.of("NAME", "PHASE", "NODE", "DEVICES", "SIZE", "PROGRESS", "DOWNTIME(MS)", "AGE"),
        List.of(table.get(0).split("\\s+")),
        "printer columns of " + table);
    List<String> row = List.of(table.get(1).split("\\s+"));
    assertEquals(
        List.of("gpu-workload-snapshot", "Ready", "node-a", "2"),
        row.subList(0, 4),
        "row of " + table);

    String described = kubectl.ok("describe", "vfiosnapshot", "gpu-workload-snapshot");
    assertTrue(
        described.contains("Events:")
            && described.contains("Normal")
            && described.contains("Ready"),
        described);

    String nodes = kubectl.ok("get", "vfionodes");
    assertTrue(nodes.contains("node-a") && nodes.contains("node-b"), nodes);

    String deleted = kubectl.ok("delete", "-f", example.toString());
    assertTrue(
        deleted.startsWith("vfiosnapshot.vfio.dev \"gpu-workload-snapshot\" deleted"), deleted);
    await("snapshot gone")
        .atMost(PATIENCE)
        .until(() -> cluster.snapshot(NS, "gpu-workload-snapshot") == null);
  }

  @Test
  void explainDocumentsTheSpecFromTheCrdSchema() throws Exception {
    String explained = kubectl.ok("explain", "vfiosnapshot.spec");
    assertTrue(explained.contains("GROUP:      vfio.dev"), explained);
    assertTrue(
        explained.contains("podName") && explained.contains("<string> -required-")
            || explained.contains("podName\t<string>"),
        explained);
    assertTrue(kubectl.ok("explain", "vmig.spec.source").contains("snapshotName"));
  }

  @Test
  void everyExampleIsAcceptedByTheApiServer() throws Exception {
    // A server-side dry run: the API server validates every example (schema and CEL) and stores
    // none.
    String applied =
        kubectl.ok("apply", "--dry-run=server", "-f", SourceTree.current().examples().toString());
    assertTrue(
        applied.contains("vfiomigration.vfio.dev/gpu-workload-restore created (server dry run)"),
        applied);
    assertTrue(
        applied.contains(
            "vfiosnapshot.vfio.dev/gpu-workload-snapshot-full created (server dry run)"),
        applied);
  }
}
