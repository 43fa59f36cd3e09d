package dev.vfio.e2e;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vfio.api.v1alpha1.Condition;
import dev.vfio.api.v1alpha1.Conditions;
import dev.vfio.api.v1alpha1.DeviceResult;
import dev.vfio.api.v1alpha1.MigrationPhase;
import dev.vfio.api.v1alpha1.MigrationSource;
import dev.vfio.api.v1alpha1.Reason;
import dev.vfio.api.v1alpha1.SnapshotPhase;
import dev.vfio.api.v1alpha1.VfioMigration;
import dev.vfio.api.v1alpha1.VfioMigrationSpec;
import dev.vfio.api.v1alpha1.VfioNode;
import dev.vfio.api.v1alpha1.VfioSnapshot;
import dev.vfio.api.v1alpha1.VfioSnapshotSpec;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.awaitility.core.ConditionFactory;
import org.junit.jupiter.api.Test;

/**
 * The node agent as a process on a real Linux kernel, on two nodes: {@code kernel-testbed/run.sh}
 * boots two QEMU guests of Debian's 6.1 kernel with the project's {@code vfio_mig_test} driver, and
 * each ({@code guest/agent-node.sh}) is a node of this test's cluster. Each runs {@code
 * dev.vfio.agent.NodeAgent} with the kernel backend on this JDK in a chroot, authenticated as the
 * chart's agent on its node, against the real API server on the host (QEMU's user network, through
 * a relay in the guest); the guests reach each other on a network of their own (QEMU's socket
 * netdev), and share the cluster's storage with the host (9p). A pod is two workload processes in
 * the pod's cgroup v2 directory, each holding an mdev.
 *
 * <p>Everything is driven through custom resources: a VfioSnapshot of the first node's pod (the
 * operator, a Save task, the pod's freezer, pidfd_getfd of the workloads' device fds, the real VFIO
 * uAPI, two sealed blobs); a second snapshot whose agent is killed while it holds a device's
 * migration data fd, and whose journal returns the devices to RUNNING when it restarts; the first
 * snapshot restored into the second node's pod; and a live VfioMigration of the first pod into the
 * second over the agents' mutual TLS stream, after which the target runs the source's memory and
 * the source stays frozen with its devices stopped. What the workloads see is checked in the
 * guests, by name.
 *
 * <p>Runs only with {@code -Pkernel} (failsafe), as root, after {@code kernel-testbed/install.sh}.
 */
class KernelNodeIT {
  private static final String NS = "default";
  private static final String SOURCE_POD = "gpu-workload";
  private static final String TARGET_POD = "gpu-target";

  /** Every check of {@code guest/agent-node.sh} as the source node, in the order it makes them. */
  private static final List<String> SOURCE_CHECKS =
      List.of(
          "workload-1-fills",
          "workload-2-fills",
          "pod-cgroup",
          "snapshot",
          "pod-thawed-save",
          "p2p-order-snapshot",
          "device-1-running-save",
          "device-2-running-save",
          "memory-1-save",
          "memory-2-save",
          "workload-1-writes-save",
          "workload-2-writes-save",
          "killed-mid-save",
          "killed-snapshot",
          "pod-thawed-restart",
          "journal-replayed",
          "device-1-running-restart",
          "device-2-running-restart",
          "memory-1-restart",
          "memory-2-restart",
          "workload-1-writes-restart",
          "workload-2-writes-restart",
          "live",
          "p2p-order-live-source",
          "source-frozen",
          "device-1-stopped",
          "device-2-stopped",
          "source-refuses-writes",
          "workload-1-quits",
          "workload-2-quits");

  /** Every check of {@code guest/agent-node.sh} as the target node, in the order it makes them. */
  private static final List<String> TARGET_CHECKS =
      List.of(
          "workload-1-fills",
          "workload-2-fills",
          "pod-cgroup",
          "restore",
          "pod-thawed-restore",
          "p2p-order-restore",
          "device-1-running-restore",
          "device-2-running-restore",
          "memory-1-restore",
          "memory-2-restore",
          "workload-1-writes-restore",
          "workload-2-writes-restore",
          "workload-1-overwrites",
          "workload-2-overwrites",
          "live",
          "pod-thawed-live",
          "p2p-order-live-target",
          "device-1-running-live",
          "device-2-running-live",
          "memory-1-live",
          "memory-2-live",
          "workload-1-writes-live",
          "workload-2-writes-live",
          "workload-1-quits",
          "workload-2-quits");

  /**
   * A JVM start costs 10-20 s under TCG, and the agent loads far more than the CLI: its first
   * inventory takes minutes with two guests on two cores.
   */
  private static final Duration PATIENCE = Duration.ofMinutes(8);

  /** Above the guests' own patience (480 s) and run.sh's timeout, so that they say what hung. */
  private static final long RUN_TIMEOUT_SECONDS = 780;

  /** Bytes of a vfio_mig_test device's state: its 16 MiB BAR0 and a 32-byte header. */
  private static final long DEVICE_STATE_BYTES = (16L << 20) + 32;

  /** One QEMU guest as a node: its name, role, address between the guests and files. */
  private record Guest(String node, String role, String peerNet, String peerIp, Path out) {
    Path dir() {
      return out.resolveSibling("nodes").resolve(node);
    }

    Path file(String name) {
      return dir().resolve(name);
    }
  }

  @Test
  void twoRealKernelNodesSnapshotRestoreAndMigrateLiveThroughTheAgentProcesses() throws Exception {
    Path testbed = Path.of(System.getProperty("testbed.dir")).toRealPath();
    // Not under /tmp: the guests' chroots have a tmpfs there, and they must see these files.
    Path work = Path.of(System.getProperty("testbed.out")).toAbsolutePath();
    deleteRecursively(work);
    Files.createDirectories(work);
    int peerPort = 20000 + (int) (ProcessHandle.current().pid() % 20000);
    Guest source =
        new Guest("kernel-a", "source", "listen:" + peerPort, "192.168.50.1", work.resolve("a"));
    Guest target =
        new Guest("kernel-b", "target", "connect:" + peerPort, "192.168.50.2", work.resolve("b"));
    try (LocalCluster cluster = LocalCluster.start(work)) {
      KubernetesClient client = cluster.client();
      // The agents heartbeat from emulated CPUs: slower than a node, not lost.
      cluster.startOperator(Map.of("VFIO_AGENT_HEARTBEAT_TIMEOUT", "240s"));
      Pod sourcePod = cluster.runningPod(NS, SOURCE_POD, source.node());
      Pod targetPod = cluster.runningPod(NS, TARGET_POD, target.node());
      client
          .pods()
          .inNamespace(NS)
          .withName(TARGET_POD)
          .edit(
              pod -> {
                pod.getMetadata().getAnnotations().put("vfio.dev/restore-target", "true");
                return pod;
              });
      prepare(cluster, source, sourcePod);
      prepare(cluster, target, targetPod);
      int apiPort = URI.create(cluster.apiServerUrl()).getPort();
      // The listening end of the guests' network first: the connecting QEMU needs it up.
      Process sourceRun = startGuest(testbed, work, source, apiPort);
      await("the source guest's QEMU listens")
          .atMost(PATIENCE)
          .until(() -> Files.exists(source.out().resolve("console.log")) || !sourceRun.isAlive());
      Process targetRun = startGuest(testbed, work, target, apiPort);
      List<Process> runs = List.of(sourceRun, targetRun);
      try {
        for (Guest guest : List.of(source, target)) {
          whileGuestsRun(runs, "agent of " + guest.node() + " publishes two migratable devices")
              .until(() -> migratableDevices(client, guest.node()) == 2);
          whileGuestsRun(runs, "workloads on " + guest.node() + " hold their devices")
              .until(() -> Files.exists(guest.file("pod.ready")));
        }

        VfioSnapshot ready = snapshot(client, cluster, runs, "on-a-real-kernel");
        assertEquals(
            SnapshotPhase.Ready,
            ready.getStatus().getPhase(),
            () -> "snapshot ended " + Serialization.asYaml(ready.getStatus()));
        assertEquals(source.node(), ready.getStatus().getNodeName());
        assertEquals(2, ready.getStatus().getDevices().size());
        for (DeviceResult device : ready.getStatus().getDevices()) {
          assertEquals(DEVICE_STATE_BYTES, device.getBytes(), device.getAddress());
          assertEquals("RUNNING", device.getState(), device.getAddress());
          assertTrue(
              Files.size(cluster.storage().resolve(device.getBlobPath())) > DEVICE_STATE_BYTES,
              "the sealed blob of " + device.getAddress() + " is on the volume");
        }
        Files.writeString(source.file("snapshot.done"), "");

        whileGuestsRun(runs, "the source guest watches for the next save")
            .until(() -> Files.exists(source.file("kill.ready")));
        VfioSnapshot killed = snapshot(client, cluster, runs, "agent-killed");
        Condition reason = Conditions.find(killed.getStatus().getConditions(), Conditions.READY);
        assertEquals(
            Reason.AGENT_RESTARTED.wire(),
            reason.getReason(),
            () -> "snapshot ended " + Serialization.asYaml(killed.getStatus()));
        try (Stream<Path> left = Files.walk(cluster.storage().resolve(NS))) {
          assertEquals(
              List.of(),
              left.filter(p -> p.getFileName().toString().contains(".tmp-")).toList(),
              "the restarted agent deleted the killed save's temporary blobs");
        }
        Files.writeString(source.file("killed.done"), "");
        whileGuestsRun(runs, "the source's devices run again")
            .until(() -> Files.exists(source.file("source.ready")));

        VfioMigration restore =
            migration(
                client,
                runs,
                "restore",
                spec -> spec.getSource().setSnapshotName("on-a-real-kernel"));
        assertEquals(target.node(), restore.getStatus().getTargetNode());
        Files.writeString(target.file("restore.done"), "");
        whileGuestsRun(runs, "the target's workloads overwrite the restored state")
            .until(() -> Files.exists(target.file("overwritten")));

        VfioMigration live =
            migration(client, runs, "live", spec -> spec.getSource().setPodName(SOURCE_POD));
        assertEquals(source.node(), live.getStatus().getSourceNode());
        assertEquals(target.node(), live.getStatus().getTargetNode());
        assertTrue(live.getStatus().getBytesTransferred() >= 2 * DEVICE_STATE_BYTES);
        Files.writeString(source.file("live.done"), "");
        Files.writeString(target.file("live.done"), "");
      } finally {
        for (Process run : runs) {
          if (!run.waitFor(RUN_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
            run.destroyForcibly();
          }
        }
        printLogs(work, source, target);
      }
      assertPassed(source, SOURCE_CHECKS, sourceRun);
      assertPassed(target, TARGET_CHECKS, targetRun);
    }
  }

  /** The node's files for its guest: its agent's environment and its pod's UID. */
  private static void prepare(LocalCluster cluster, Guest guest, Pod pod) throws IOException {
    Files.createDirectories(guest.dir());
    Files.createDirectories(guest.out());
    Files.writeString(guest.file("pod.uid"), pod.getMetadata().getUid());
    Map<String, String> env = cluster.agentEnvironment(guest.node(), guest.peerIp());
    env.put("NODE_NAME", guest.node());
    env.put("KUBERNETES_USER_AGENT", "vfio-agent/" + guest.node());
    env.put("VFIO_BACKEND", "kernel");
    env.put("VFIO_JOURNAL_DIR", guest.file("journal").toString());
    env.put("VFIO_STORAGE_CLAIMS", LocalCluster.STORAGE_CLAIM + "=" + cluster.storage());
    env.put("VFIO_HEALTH_PORT", "-1");
    Files.writeString(guest.file("agent.env"), shellExports(env));
  }

  private static Process startGuest(Path testbed, Path work, Guest guest, int apiPort)
      throws IOException {
    ProcessBuilder builder =
        new ProcessBuilder(testbed.resolve("run.sh").toString())
            .redirectErrorStream(true)
            .redirectOutput(guest.out().resolve("run.log").toFile());
    Map<String, String> env = builder.environment();
    env.put("OUT", guest.out().toString());
    env.put("SHARE", work.toString());
    env.put("GUEST_SCRIPT", testbed.resolve("guest").resolve("agent-node.sh").toString());
    env.put("GUEST_NET", "1");
    env.put("PEER_NET", guest.peerNet());
    env.put("PEER_MAC", "52:54:00:00:00:0" + (guest.role().equals("source") ? 1 : 2));
    env.put("RUN_JAVA", "0");
    env.put("TIMEOUT", "720");
    env.put("AGENT_JAVA", Path.of(System.getProperty("java.home"), "bin", "java").toString());
    env.put("AGENT_CLASSPATH", System.getProperty("java.class.path"));
    env.put("API_PORT", Integer.toString(apiPort));
    env.put("NODE_ROLE", guest.role());
    env.put("NODE_DIR", guest.dir().toString());
    env.put("PEER_IP", guest.peerIp());
    env.put("GUEST_VARS", "AGENT_JAVA AGENT_CLASSPATH API_PORT NODE_ROLE NODE_DIR PEER_IP");
    return builder.start();
  }

  /** Fails at once when a guest has ended, rather than at the deadline. */
  private static ConditionFactory whileGuestsRun(List<Process> runs, String what) {
    return await(what)
        .atMost(PATIENCE)
        .pollInterval(Duration.ofSeconds(1))
        .failFast("a guest ended early", () -> runs.stream().anyMatch(run -> !run.isAlive()));
  }

  /** Creates a snapshot of the source pod and waits until it is Ready or Failed. */
  private static VfioSnapshot snapshot(
      KubernetesClient client, LocalCluster cluster, List<Process> runs, String name) {
    VfioSnapshot snapshot = new VfioSnapshot();
    snapshot.setMetadata(new ObjectMetaBuilder().withNamespace(NS).withName(name).build());
    VfioSnapshotSpec spec = new VfioSnapshotSpec();
    spec.setPodName(SOURCE_POD);
    snapshot.setSpec(spec);
    client.resource(snapshot).create();
    whileGuestsRun(runs, "snapshot " + name + " ends")
        .until(
            () -> {
              VfioSnapshot current = cluster.snapshot(NS, name);
              return current != null
                  && current.getStatus() != null
                  && (current.getStatus().getPhase() == SnapshotPhase.Ready
                      || current.getStatus().getPhase() == SnapshotPhase.Failed);
            });
    return cluster.snapshot(NS, name);
  }

  /** Creates a migration into the target pod and waits until it Succeeded; fails if it Failed. */
  private static VfioMigration migration(
      KubernetesClient client,
      List<Process> runs,
      String name,
      Consumer<VfioMigrationSpec> customize) {
    VfioMigration migration = new VfioMigration();
    migration.setMetadata(new ObjectMetaBuilder().withNamespace(NS).withName(name).build());
    VfioMigrationSpec spec = new VfioMigrationSpec();
    spec.setSource(new MigrationSource());
    spec.setTargetPodName(TARGET_POD);
    customize.accept(spec);
    migration.setSpec(spec);
    client.resource(migration).create();
    whileGuestsRun(runs, "migration " + name + " ends")
        .until(
            () -> {
              VfioMigration current =
                  client.resources(VfioMigration.class).inNamespace(NS).withName(name).get();
              MigrationPhase phase =
                  current.getStatus() == null ? null : current.getStatus().getPhase();
              if (phase == MigrationPhase.Failed) {
                throw new AssertionError(
                    name + " failed: " + Serialization.asYaml(current.getStatus()));
              }
              return phase == MigrationPhase.Succeeded;
            });
    return client.resources(VfioMigration.class).inNamespace(NS).withName(name).get();
  }

  private static long migratableDevices(KubernetesClient client, String nodeName) {
    VfioNode node = client.resources(VfioNode.class).withName(nodeName).get();
    if (node == null || node.getStatus() == null || node.getStatus().getDevices() == null) {
      return 0;
    }
    Condition ready = Conditions.find(node.getStatus().getConditions(), Conditions.READY);
    if (ready == null || !Condition.TRUE.equals(ready.getStatus())) {
      return 0;
    }
    return node.getStatus().getDevices().stream()
        .filter(d -> d.getMigrationFlags() != null && d.getMigrationFlags().contains("STOP_COPY"))
        .count();
  }

  private static void assertPassed(Guest guest, List<String> checks, Process run)
      throws IOException {
    List<String> log = Files.readAllLines(guest.out().resolve("guest.log"));
    List<String> missing = new ArrayList<>();
    for (String check : checks) {
      if (log.stream().noneMatch(line -> line.startsWith("PASS " + check + ":"))) {
        missing.add(check);
      }
    }
    assertEquals(List.of(), missing, "checks of agent-node.sh on " + guest.node() + " not passed");
    assertEquals(0, run.exitValue(), "run.sh exit status of " + guest.node());
  }

  /** {@code export NAME='value'} lines for the guest's busybox sh. */
  private static String shellExports(Map<String, String> env) {
    StringBuilder exports = new StringBuilder();
    env.forEach(
        (name, value) ->
            exports
                .append("export ")
                .append(name)
                .append("='")
                .append(value.replace("'", "'\\''"))
                .append("'\n"));
    return exports.toString();
  }

  private static void printLogs(Path work, Guest... guests) {
    List<Path> logs = new ArrayList<>();
    for (Guest guest : guests) {
      logs.add(guest.out().resolve("run.log"));
      logs.add(guest.out().resolve("guest.log"));
      logs.add(guest.file("agent.log"));
    }
    logs.add(work.resolve("logs").resolve("operator.log"));
    for (Path log : logs) {
      try {
        List<String> lines = Files.readAllLines(log);
        System.out.println("===== " + log + " (last 80 lines)");
        lines.subList(Math.max(0, lines.size() - 80), lines.size()).forEach(System.out::println);
      } catch (IOException e) {
        System.out.println("===== " + log + ": " + e);
      }
    }
  }

  private static void deleteRecursively(Path directory) throws IOException {
    if (!Files.exists(directory)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(directory)) {
      for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(path);
      }
    }
  }
}
