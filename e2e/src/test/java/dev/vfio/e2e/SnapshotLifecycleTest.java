package dev.vfio.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vfio.agent.blobs.BlobReader;
import dev.vfio.api.v1alpha1.Condition;
import dev.vfio.api.v1alpha1.DeviceResult;
import dev.vfio.api.v1alpha1.SnapshotPhase;
import dev.vfio.api.v1alpha1.VfioSnapshot;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SnapshotLifecycleTest extends ClusterTest {
  static final long FOUR_MIB = 4L << 20;

  @BeforeAll
  static void start(@TempDir Path work) throws Exception {
    startCluster(work,
        List.of(SimulatedNode.Device.of("0000:3b:00.0", FOUR_MIB), SimulatedNode.Device.of("0000:3b:00.1", FOUR_MIB)),
        List.of(SimulatedNode.Device.of("0000:af:00.0", FOUR_MIB)));
  }

  @Test
  void snapshotOfPodWithTwoDevicesBecomesReadyWithVerifiedBlobs() throws Exception {
    cluster.runningPod(NS, "gpu-workload", "node-a", "0000:3b:00.0", "0000:3b:00.1");

    createSnapshot("two-devices", "gpu-workload", spec -> { });
    VfioSnapshot ready = awaitPhase("two-devices", SnapshotPhase.Ready);

    assertEquals("node-a", ready.getStatus().getNodeName());
    assertTrue(ready.getStatus().getReadyToUse());
    assertEquals(Condition.TRUE, readyCondition(ready).getStatus());
    assertEquals(2, ready.getStatus().getDevices().size());
    assertEquals(100, ready.getStatus().getProgress().getPercent());
    assertNotNull(ready.getStatus().getDowntimeMillis());
    long total = 0;
    for (DeviceResult device : ready.getStatus().getDevices()) {
      Path blob = cluster.storage().resolve(device.getBlobPath());
      verifiedEpoch(blob, device.getAddress());
      try (BlobReader reader = BlobReader.open(blob)) {
        assertEquals(device.getSha256(), reader.verify().sha256Hex(), "status SHA-256 is the blob's");
        assertEquals(device.getAddress(), reader.header().device().address());
      }
      assertEquals("RUNNING", device.getState());
      assertEquals("RUNNING", device("node-a", device.getAddress()).getMigrationState());
      total += device.getBytes();
    }
    assertEquals(total, ready.getStatus().getTotalBytes());
    assertFalse(java.nio.file.Files.exists(
        dev.vfio.agent.sim.SimulatedFreezer.marker(cluster.node("node-a").simulationDirectory(),
            client.pods().inNamespace(NS).withName("gpu-workload").get().getMetadata().getUid())),
        "the pod is thawed");
  }
}
