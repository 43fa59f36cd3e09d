package dev.vfio.e2e;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.vfio.api.v1alpha1.SnapshotPhase;
import dev.vfio.api.v1alpha1.VfioSnapshot;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.stream.IntStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Many snapshots at once: every one completes, each with its own verified blob. */
class SnapshotScaleTest extends ClusterTest {
  static final int PER_NODE = 25;

  @BeforeAll
  static void start(@TempDir Path work) throws Exception {
    // All fifty at once is the point: the admission bounds (10 in the cluster, 4 per namespace by
    // default) would queue them. The agents' queues still hold back five of each node's 25.
    startCluster(
        work,
        devices(0x10),
        devices(0x20),
        java.util.Map.of("VFIO_MAX_SNAPSHOTS", "50", "VFIO_MAX_SNAPSHOTS_PER_NAMESPACE", "50"));
  }

  static List<SimulatedNode.Device> devices(int bus) {
    return IntStream.range(0, PER_NODE)
        .mapToObj(i -> SimulatedNode.Device.of(address(bus, i), 256 << 10))
        .toList();
  }

  static String address(int bus, int index) {
    return String.format("0000:%02x:%02x.0", bus, index);
  }

  @Test
  void fiftySnapshotsInParallelAllBecomeReady() throws Exception {
    List<String> names = new ArrayList<>();
    for (int i = 0; i < PER_NODE; i++) {
      cluster.runningPod(NS, "pod-a-" + i, "node-a", address(0x10, i));
      cluster.runningPod(NS, "pod-b-" + i, "node-b", address(0x20, i));
    }
    for (int i = 0; i < PER_NODE; i++) {
      createSnapshot("snap-a-" + i, "pod-a-" + i, spec -> {});
      createSnapshot("snap-b-" + i, "pod-b-" + i, spec -> {});
      names.add("snap-a-" + i);
      names.add("snap-b-" + i);
    }

    await("all 50 Ready")
        .atMost(Duration.ofMinutes(3))
        .pollInterval(Duration.ofSeconds(1))
        .until(
            () ->
                client.resources(VfioSnapshot.class).inNamespace(NS).list().getItems().stream()
                        .filter(
                            s ->
                                s.getStatus() != null
                                    && s.getStatus().getPhase() == SnapshotPhase.Ready)
                        .count()
                    == names.size());

    for (String name : names) {
      VfioSnapshot ready = cluster.snapshot(NS, name);
      String address = ready.getStatus().getDevices().get(0).getAddress();
      verifiedEpoch(
          cluster.storage().resolve(ready.getStatus().getDevices().get(0).getBlobPath()),
          ready,
          address);
      assertEquals(
          Objects.requireNonNull(ready.getStatus().getNodeName()),
          name.startsWith("snap-a") ? "node-a" : "node-b");
    }
  }
}
