package dev.vfio.e2e;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vfio.agent.blobs.BlobDigest;
import dev.vfio.agent.blobs.BlobReader;
import dev.vfio.api.v1alpha1.Condition;
import dev.vfio.api.v1alpha1.Conditions;
import dev.vfio.api.v1alpha1.DeviceResult;
import dev.vfio.api.v1alpha1.Digest;
import dev.vfio.api.v1alpha1.Reason;
import dev.vfio.api.v1alpha1.SnapshotPhase;
import dev.vfio.api.v1alpha1.TaskOperation;
import dev.vfio.api.v1alpha1.TaskPhase;
import dev.vfio.api.v1alpha1.VfioNodeTask;
import dev.vfio.api.v1alpha1.VfioNodeTaskSpec;
import dev.vfio.api.v1alpha1.VfioSnapshot;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SnapshotLifecycleTest extends ClusterTest {
  static final long FOUR_MIB = 4L << 20;

  @BeforeAll
  static void start(@TempDir Path work) throws Exception {
    startCluster(
        work,
        List.of(
            SimulatedNode.Device.of("0000:3b:00.0", FOUR_MIB),
            SimulatedNode.Device.of("0000:3b:00.1", FOUR_MIB),
            SimulatedNode.Device.of("0000:3c:00.0", 1 << 20)
                .with("flags", List.of("STOP_COPY", "P2P", "PRE_COPY"))
                .with("dirtyBytesPerRound", 64 << 10),
            SimulatedNode.Device.of("0000:3d:00.0", 1 << 20),
            SimulatedNode.Device.of("0000:3e:00.0", 1 << 20)),
        List.of(
            SimulatedNode.Device.of("0000:af:00.0", 1 << 20),
            SimulatedNode.Device.of("0000:af:00.1", 1 << 20),
            SimulatedNode.Device.of("0000:b0:00.0", 32 << 20)
                .with("faults", java.util.Map.of("bytesPerSecond", 2 << 20)),
            SimulatedNode.Device.of("0000:b1:00.0", 8 << 20)
                .with("faults", java.util.Map.of("bytesPerSecond", 2 << 20))));
  }

  @Test
  void snapshotOfPodWithTwoDevicesBecomesReadyWithVerifiedBlobs() throws Exception {
    cluster.runningPod(NS, "gpu-workload", "node-a", "0000:3b:00.0", "0000:3b:00.1");

    createSnapshot("two-devices", "gpu-workload", spec -> spec.setDigest(Digest.SHA256));
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
      verifiedEpoch(blob, ready, device.getAddress());
      try (BlobReader reader = sealedBlob(blob, ready, device.getAddress())) {
        assertNotNull(device.getSha256(), "a snapshot that asks for a digest reports it");
        assertEquals(
            device.getSha256(), reader.verify().sha256Hex(), "status SHA-256 is the blob's");
        assertEquals(BlobDigest.SHA256_CHUNKS, reader.header().digest());
        assertEquals(device.getAddress(), reader.header().device().address());
      }
      assertEquals("RUNNING", device.getState());
      // The node's inventory is republished every heartbeat; the device is RUNNING by the next one.
      await("inventory shows " + device.getAddress() + " RUNNING")
          .atMost(PATIENCE)
          .until(() -> "RUNNING".equals(device("node-a", device.getAddress()).getMigrationState()));
      total += device.getBytes();
    }
    assertEquals(total, ready.getStatus().getTotalBytes());
    assertFalse(
        java.nio.file.Files.exists(
            dev.vfio.agent.sim.SimulatedFreezer.marker(
                cluster.node("node-a").simulationDirectory(),
                client
                    .pods()
                    .inNamespace(NS)
                    .withName("gpu-workload")
                    .get()
                    .getMetadata()
                    .getUid())),
        "the pod is thawed");
  }

  @Test
  void deletingASnapshotWithDeletePolicyRemovesItsBlobs() throws Exception {
    cluster.runningPod(NS, "delete-me", "node-b", "0000:af:00.0");
    createSnapshot("delete-policy", "delete-me", spec -> {});
    VfioSnapshot ready = awaitPhase("delete-policy", SnapshotPhase.Ready);
    Path directory = cluster.storage().resolve(NS).resolve("delete-policy");
    assertTrue(
        java.nio.file.Files.exists(
            cluster.storage().resolve(ready.getStatus().getDevices().get(0).getBlobPath())));

    client.resource(ready).delete();

    await("snapshot gone")
        .atMost(PATIENCE)
        .until(() -> cluster.snapshot(NS, "delete-policy") == null);
    assertFalse(java.nio.file.Files.exists(directory), "the blobs are deleted with their snapshot");
    assertTrue(
        client
            .resources(dev.vfio.api.v1alpha1.VfioNodeTask.class)
            .inNamespace(NS)
            .list()
            .getItems()
            .stream()
            .noneMatch(t -> t.getMetadata().getName().startsWith("delete-policy-")),
        "its tasks are gone too");
  }

  @Test
  void deletingASnapshotWithRetainPolicyKeepsItsBlobs() throws Exception {
    cluster.runningPod(NS, "retain-me", "node-b", "0000:af:00.1");
    createSnapshot(
        "retain-policy",
        "retain-me",
        spec -> spec.setDeletionPolicy(dev.vfio.api.v1alpha1.DeletionPolicy.Retain));
    VfioSnapshot ready = awaitPhase("retain-policy", SnapshotPhase.Ready);
    Path blob = cluster.storage().resolve(ready.getStatus().getDevices().get(0).getBlobPath());

    client.resource(ready).delete();

    await("snapshot gone")
        .atMost(PATIENCE)
        .until(() -> cluster.snapshot(NS, "retain-policy") == null);
    verifiedEpoch(blob, ready, "0000:af:00.1");
  }

  @Test
  void snapshotIsDeletedWhenItsTtlElapses() {
    cluster.runningPod(NS, "short-lived", "node-a", "0000:3d:00.0");
    createSnapshot("with-ttl", "short-lived", spec -> spec.setTtl("3s"));
    awaitPhase("with-ttl", SnapshotPhase.Ready);

    await("deleted after its ttl")
        .atMost(PATIENCE)
        .until(() -> cluster.snapshot(NS, "with-ttl") == null);
    assertFalse(java.nio.file.Files.exists(cluster.storage().resolve(NS).resolve("with-ttl")));
  }

  @Test
  void precopyCapableDeviceIsSavedThroughPrecopyRounds() throws Exception {
    cluster.runningPod(NS, "precopy-pod", "node-a", "0000:3c:00.0");
    createSnapshot(
        "precopy",
        "precopy-pod",
        spec -> spec.setCompression(dev.vfio.api.v1alpha1.Compression.Zstd));
    VfioSnapshot ready = awaitPhase("precopy", SnapshotPhase.Ready);

    DeviceResult device = ready.getStatus().getDevices().get(0);
    assertTrue(device.getPrecopyRounds() >= 1, "PRE_COPY rounds ran before STOP_COPY");
    Path blob = cluster.storage().resolve(device.getBlobPath());
    verifiedEpoch(blob, ready, "0000:3c:00.0");
    try (BlobReader reader = sealedBlob(blob, ready, "0000:3c:00.0")) {
      assertEquals(dev.vfio.agent.blobs.BlobCompression.ZSTD, reader.header().compression());
      // No digest asked for: the chunk CRCs are the blob's checks, and the status names none.
      assertEquals(BlobDigest.NONE, reader.header().digest());
      assertNull(reader.verify().sha256Hex());
    }
    assertNull(device.getSha256());
  }

  @Test
  void deletingASnapshotWhileItRunsCancelsItAndRollsTheDeviceBack() {
    cluster.runningPod(NS, "busy-pod", "node-b", "0000:b0:00.0");
    createSnapshot("cancel-me", "busy-pod", spec -> {});
    await("saving")
        .atMost(PATIENCE)
        .until(
            () -> {
              VfioSnapshot snapshot = cluster.snapshot(NS, "cancel-me");
              return snapshot.getStatus() != null
                  && snapshot.getStatus().getProgress() != null
                  && snapshot.getStatus().getProgress().getBytesDone() > 0;
            });

    client.resource(cluster.snapshot(NS, "cancel-me")).delete();

    await("snapshot gone").atMost(PATIENCE).until(() -> cluster.snapshot(NS, "cancel-me") == null);
    await("device running again")
        .atMost(PATIENCE)
        .until(() -> "RUNNING".equals(device("node-b", "0000:b0:00.0").getMigrationState()));
    assertFalse(
        java.nio.file.Files.exists(cluster.storage().resolve(NS).resolve("cancel-me")),
        "no blob and no temporary file is left");
  }

  @Test
  void aSecondSnapshotOfAPodWaitsPodBusyWhileTheFirstSavesThenRuns() {
    cluster.runningPod(NS, "shared-pod", "node-b", "0000:b1:00.0");
    createSnapshot("first-of-two", "shared-pod", spec -> {});
    await("saving")
        .atMost(PATIENCE)
        .until(
            () -> {
              VfioSnapshot snapshot = cluster.snapshot(NS, "first-of-two");
              return snapshot.getStatus() != null
                  && snapshot.getStatus().getProgress() != null
                  && snapshot.getStatus().getProgress().getBytesDone() > 0;
            });

    createSnapshot("second-of-two", "shared-pod", spec -> {});

    await("second waits")
        .atMost(PATIENCE)
        .until(
            () -> {
              VfioSnapshot second = cluster.snapshot(NS, "second-of-two");
              return second.getStatus() != null
                  && Reason.POD_BUSY
                      .wire()
                      .equals(
                          Conditions.find(second.getStatus().getConditions(), Conditions.READY)
                              .getReason());
            });
    assertEquals(
        SnapshotPhase.Running, cluster.snapshot(NS, "first-of-two").getStatus().getPhase());
    assertTrue(
        Conditions.find(
                cluster.snapshot(NS, "second-of-two").getStatus().getConditions(), Conditions.READY)
            .getMessage()
            .contains("VfioSnapshot " + NS + "/first-of-two"));
    awaitPhase("first-of-two", SnapshotPhase.Ready);
    awaitPhase("second-of-two", SnapshotPhase.Ready);
  }

  // The agents select their tasks by spec.nodeName, a field selector only a real API server
  // applies to custom resources; the label vfio.dev/node is for people and may say otherwise.

  @Test
  void agentIgnoresATaskForAnotherNodeEvenWhenItsLabelNamesItsOwnNode() throws Exception {
    Path blobs = blobsOnTheClaim("not-for-node-a");
    VfioNodeTask stray = deleteBlobsTask("not-for-node-a", "node-elsewhere", "node-a");
    cluster.runningPod(NS, "beside-stray", "node-a", "0000:3e:00.0");

    // Created after the stray task: by the time this one is Ready, node-a's agent has had every
    // chance to see the stray one too.
    createSnapshot("beside-stray", "beside-stray", spec -> {});
    awaitPhase("beside-stray", SnapshotPhase.Ready);

    await("no agent claims the task of node-elsewhere")
        .during(Duration.ofSeconds(5))
        .atMost(Duration.ofSeconds(15))
        .pollInterval(Duration.ofMillis(200))
        .until(() -> client.resource(stray).get().getStatus() == null);
    assertTrue(Files.exists(blobs.resolve("marker")), "its blobs are untouched");
  }

  @Test
  void agentRunsATaskForItsNodeEvenWhenItsLabelNamesAnotherNode() throws Exception {
    Path blobs = blobsOnTheClaim("for-node-a");
    VfioNodeTask mislabelled = deleteBlobsTask("for-node-a", "node-a", "node-b");

    await("node-a's agent runs it")
        .atMost(PATIENCE)
        .pollInterval(Duration.ofMillis(200))
        .until(
            () -> {
              VfioNodeTask task = client.resource(mislabelled).get();
              return task.getStatus() != null && task.getStatus().getPhase() == TaskPhase.Succeeded;
            });
    assertTrue(
        client.resource(mislabelled).get().getStatus().getClaimedBy().startsWith("node-a-"),
        "claimed by the agent of node-a");
    assertFalse(Files.exists(blobs), "its blobs are deleted");
  }

  /** A directory of blobs on the shared claim, with one file in it. */
  private static Path blobsOnTheClaim(String directory) throws IOException {
    Path blobs = Files.createDirectories(cluster.storage().resolve(NS).resolve(directory));
    Files.writeString(blobs.resolve("marker"), "left by the test");
    return blobs;
  }

  /**
   * A task deleting the blobs of {@link #blobsOnTheClaim(String) name}, created with the operator's
   * credentials (the only ones the chart lets create tasks) for {@code nodeName} but labelled for
   * {@code labelledNode}, which the operator's code never does.
   */
  private static VfioNodeTask deleteBlobsTask(String name, String nodeName, String labelledNode) {
    VfioNodeTaskSpec spec = new VfioNodeTaskSpec();
    spec.setOperation(TaskOperation.DeleteBlobs);
    spec.setNodeName(nodeName);
    spec.setStorageClaim(LocalCluster.STORAGE_CLAIM);
    spec.setBlobDirectory(NS + "/" + name);
    VfioNodeTask task = new VfioNodeTask();
    task.setMetadata(
        new ObjectMetaBuilder()
            .withNamespace(NS)
            .withName(name)
            .withLabels(Map.of(VfioNodeTask.NODE_LABEL, labelledNode))
            .build());
    task.setSpec(spec);
    try (KubernetesClient operator = cluster.operatorClient()) {
      return operator.resource(task).create();
    }
  }
}
