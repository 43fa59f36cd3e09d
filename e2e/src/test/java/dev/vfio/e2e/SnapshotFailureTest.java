package dev.vfio.e2e;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vfio.agent.sim.SimulatedFreezer;
import dev.vfio.api.v1alpha1.Condition;
import dev.vfio.api.v1alpha1.Reason;
import dev.vfio.api.v1alpha1.SnapshotPhase;
import dev.vfio.api.v1alpha1.VfioNode;
import dev.vfio.api.v1alpha1.VfioSnapshot;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Failures after the work started: a deadline, an agent killed with SIGKILL mid-save, an operator
 * restarted mid-save. The devices always end RUNNING, the pod thawed, and no partial blob remains.
 */
class SnapshotFailureTest extends ClusterTest {
  static final String TIMEOUT_DEVICE = "0000:81:00.0";
  static final String KILL_DEVICE = "0000:82:00.0";
  static final String RESTART_DEVICE = "0000:83:00.0";

  @BeforeAll
  static void start(@TempDir Path work) throws Exception {
    startCluster(
        work,
        List.of(slow(TIMEOUT_DEVICE, 16 << 20), slow(KILL_DEVICE, 32 << 20)),
        List.of(slow(RESTART_DEVICE, 8 << 20)));
  }

  /** A device whose state streams at 2 MiB/s, so a test can act while it is saved. */
  static SimulatedNode.Device slow(String address, long bytes) {
    return SimulatedNode.Device.of(address, bytes)
        .with("faults", Map.of("bytesPerSecond", 2 << 20));
  }

  @Test
  void snapshotThatOutlivesItsTimeoutFailsAndRollsBack() throws Exception {
    VfioSnapshot created =
        createSnapshot(
            "too-slow",
            pod("timeout-pod", "node-a", TIMEOUT_DEVICE),
            spec -> spec.setTimeout("2s"));

    VfioSnapshot failed = awaitPhase("too-slow", SnapshotPhase.Failed);

    assertEquals(Reason.TIMEOUT.wire(), readyCondition(failed).getReason());
    assertRolledBack("node-a", TIMEOUT_DEVICE, "timeout-pod", created);
  }

  @Test
  void agentKilledMidSaveReturnsTheDeviceToRunningWhenItRestarts() throws Exception {
    VfioSnapshot created =
        createSnapshot("agent-killed", pod("kill-pod", "node-a", KILL_DEVICE), spec -> {});
    awaitBytesSaved("agent-killed");
    assertEquals(
        "STOP_COPY", stateOnDisk(KILL_DEVICE), "the device is mid-save when the agent dies");

    cluster.node("node-a").agent().kill();
    assertTrue(hasTemporaryBlob("agent-killed"), "a killed agent leaves a temporary file behind");
    // An entry the restarted agent cannot read: it must not keep the agent from starting.
    Files.writeString(
        cluster.node("node-a").journalDirectory().resolve("0-torn.json"), "{\"taskUid\": \"0-to");
    cluster.node("node-a").agent().start();

    VfioSnapshot failed = awaitPhase("agent-killed", SnapshotPhase.Failed);
    Condition ready = readyCondition(failed);
    assertEquals(Reason.AGENT_RESTARTED.wire(), ready.getReason());
    assertTrue(ready.getMessage().contains(KILL_DEVICE), ready.getMessage());
    assertRolledBack("node-a", KILL_DEVICE, "kill-pod", created);
    await("the torn entry listed on the node")
        .atMost(PATIENCE)
        .until(
            () -> {
              var setAside =
                  client
                      .resources(VfioNode.class)
                      .withName("node-a")
                      .get()
                      .getStatus()
                      .getSetAsideJournalEntries();
              return setAside != null
                  && setAside.stream()
                      .anyMatch(
                          e ->
                              e.getFile().equals("0-torn.json")
                                  && e.getReason().startsWith("its journal entry is unreadable"));
            });
    assertTrue(
        Files.exists(cluster.node("node-a").journalDirectory().resolve("quarantine/0-torn.json")));
  }

  @Test
  void operatorRestartedMidSaveStillCompletesTheSnapshot() throws Exception {
    createSnapshot("operator-restarted", pod("restart-pod", "node-b", RESTART_DEVICE), spec -> {});
    awaitBytesSaved("operator-restarted");

    cluster.operator().kill();
    cluster.operator().start();

    VfioSnapshot ready = awaitPhase("operator-restarted", SnapshotPhase.Ready);
    verifiedEpoch(
        cluster.storage().resolve(ready.getStatus().getDevices().get(0).getBlobPath()),
        ready,
        RESTART_DEVICE);
    assertEquals(
        1,
        client
            .resources(dev.vfio.api.v1alpha1.VfioNodeTask.class)
            .inNamespace(NS)
            .list()
            .getItems()
            .stream()
            .filter(t -> t.getMetadata().getName().startsWith("operator-restarted-"))
            .count(),
        "the restarted operator found its task instead of creating another");
  }

  private static String pod(String name, String node, String device) {
    cluster.runningPod(NS, name, node, device);
    return name;
  }

  private static void awaitBytesSaved(String snapshot) {
    await(snapshot + " saving")
        .atMost(PATIENCE)
        .until(
            () -> {
              VfioSnapshot current = cluster.snapshot(NS, snapshot);
              return current.getStatus() != null
                  && current.getStatus().getProgress() != null
                  && current.getStatus().getProgress().getBytesDone() > 0;
            });
  }

  /** The simulated device's own record of its state, which is what survives an agent crash. */
  private static String stateOnDisk(String address) throws IOException {
    Path file =
        cluster
            .node("node-a")
            .simulationDirectory()
            .resolve("devices")
            .resolve(address.replace(":", "_") + ".properties");
    return Files.readAllLines(file).stream()
        .filter(l -> l.startsWith("state="))
        .map(l -> l.substring("state=".length()))
        .findFirst()
        .orElseThrow();
  }

  private static boolean hasTemporaryBlob(String snapshot) throws IOException {
    Path directory = cluster.storage().resolve(NS).resolve(snapshot);
    if (!Files.isDirectory(directory)) {
      return false;
    }
    try (Stream<Path> files = Files.list(directory)) {
      return files.anyMatch(f -> f.getFileName().toString().contains(".tmp-"));
    }
  }

  private static void assertRolledBack(
      String node, String address, String pod, VfioSnapshot snapshot) throws IOException {
    await("device running again")
        .atMost(PATIENCE)
        .until(() -> "RUNNING".equals(device(node, address).getMigrationState()));
    Path directory = cluster.storage().resolve(NS).resolve(snapshot.getMetadata().getName());
    if (Files.isDirectory(directory)) {
      try (Stream<Path> files = Files.list(directory)) {
        assertEquals(List.of(), files.toList(), "no blob and no temporary file is left");
      }
    }
    String uid = client.pods().inNamespace(NS).withName(pod).get().getMetadata().getUid();
    assertFalse(
        Files.exists(SimulatedFreezer.marker(cluster.node(node).simulationDirectory(), uid)),
        "the pod is thawed");
  }
}
