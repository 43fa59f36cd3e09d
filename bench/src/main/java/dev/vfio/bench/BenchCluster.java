package dev.vfio.bench;

import static org.awaitility.Awaitility.await;

import dev.vfio.api.v1alpha1.Condition;
import dev.vfio.api.v1alpha1.Conditions;
import dev.vfio.api.v1alpha1.VfioNode;
import dev.vfio.e2e.LocalCluster;
import dev.vfio.e2e.SimulatedNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;

/**
 * The local cluster of the e2e harness (a real kube-apiserver and etcd, the operator and the
 * agents, each a process of its own) as the cluster benchmarks use it, with the memory of its
 * processes read from the outside.
 */
final class BenchCluster implements AutoCloseable {
  static final String NAMESPACE = "default";
  private static final String OPERATOR_MAIN = "dev.vfio.operator.VfioOperator";
  private static final String AGENT_MAIN = "dev.vfio.agent.NodeAgent";

  private final LocalCluster cluster;

  private BenchCluster(LocalCluster cluster) {
    this.cluster = cluster;
  }

  /** Starts the nodes (name to devices) and the operator, and waits until every node is Ready. */
  static BenchCluster start(Path work, Map<String, List<SimulatedNode.Device>> nodes)
      throws IOException {
    return start(work, nodes, Map.of());
  }

  /**
   * As {@link #start(Path, Map)}, with {@code agentEnvironment} over the harness's agent settings.
   */
  static BenchCluster start(
      Path work,
      Map<String, List<SimulatedNode.Device>> nodes,
      Map<String, String> agentEnvironment)
      throws IOException {
    SaveBenchmark.clear(work);
    LocalCluster cluster = LocalCluster.start(Files.createDirectories(work));
    BenchCluster bench = new BenchCluster(cluster);
    try {
      for (var node : nodes.entrySet()) {
        cluster.addNode(node.getKey(), node.getValue(), agentEnvironment);
      }
      cluster.startOperator(Map.of());
      for (String node : nodes.keySet()) {
        await("agent of " + node + " ready")
            .atMost(Duration.ofMinutes(3))
            .pollInterval(Duration.ofMillis(500))
            .until(() -> ready(cluster, node));
      }
      return bench;
    } catch (RuntimeException e) {
      bench.close();
      throw e;
    }
  }

  LocalCluster local() {
    return cluster;
  }

  /** Peak RSS (VmHWM) of the operator process, in MiB. */
  OptionalDouble operatorPeakMib() throws IOException {
    return peakMib(pids(OPERATOR_MAIN)).stream().mapToDouble(Double::doubleValue).max();
  }

  /** Peak RSS (VmHWM) of each agent process, in MiB. */
  List<Double> agentPeaksMib() throws IOException {
    return peakMib(pids(AGENT_MAIN));
  }

  /** Heap in use in the operator now, from jcmd GC.heap_info, in MiB. */
  OptionalDouble operatorHeapMib() {
    return pids(OPERATOR_MAIN).stream()
        .mapToDouble(BenchCluster::heapUsedMib)
        .filter(v -> !Double.isNaN(v))
        .max();
  }

  /** Heap in use in each agent now, in MiB. */
  List<Double> agentHeapsMib() {
    return pids(AGENT_MAIN).stream()
        .map(BenchCluster::heapUsedMib)
        .filter(v -> !Double.isNaN(v))
        .toList();
  }

  /**
   * CPU seconds (user and system) each component has used since it started: the operator, all
   * agents together, the API server and etcd — what tells which of them bounds a pass.
   */
  Map<String, Double> cpuSeconds() {
    Map<String, Double> seconds = new LinkedHashMap<>();
    seconds.put("operator", cpuSeconds(pids(OPERATOR_MAIN)));
    seconds.put("agents", cpuSeconds(pids(AGENT_MAIN)));
    for (String binary : List.of("kube-apiserver", "etcd")) {
      seconds.put(
          binary,
          cpuSeconds(
              ProcessHandle.current()
                  .descendants()
                  .filter(p -> binary.equals(command(p.pid())))
                  .map(ProcessHandle::pid)
                  .toList()));
    }
    return seconds;
  }

  @Override
  public void close() {
    cluster.close();
  }

  /** utime + stime of /proc/PID/stat (fields 14 and 15), in USER_HZ ticks of 1/100 s. */
  private static double cpuSeconds(List<Long> pids) {
    double ticks = 0;
    for (long pid : pids) {
      try {
        String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        ticks += Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
      } catch (IOException e) {
        // The process ended between listing and reading: it used nothing more in this pass.
      }
    }
    return ticks / 100;
  }

  private static String command(long pid) {
    try {
      return Files.readString(Path.of("/proc", Long.toString(pid), "comm")).strip();
    } catch (IOException e) {
      return "";
    }
  }

  private static boolean ready(LocalCluster cluster, String node) {
    VfioNode vfioNode = cluster.client().resources(VfioNode.class).withName(node).get();
    if (vfioNode == null || vfioNode.getStatus() == null) {
      return false;
    }
    Condition ready = Conditions.find(vfioNode.getStatus().getConditions(), Conditions.READY);
    return ready != null && Condition.TRUE.equals(ready.getStatus());
  }

  /** This JVM's children started with {@code mainClass}: the cluster's components. */
  private static List<Long> pids(String mainClass) {
    return ProcessHandle.current()
        .children()
        .filter(p -> commandLine(p.pid()).contains(mainClass))
        .map(ProcessHandle::pid)
        .toList();
  }

  /**
   * The arguments from /proc: ProcessHandle.Info cuts a long command line short, and the class path
   * the components get is long enough to push the main class out of it.
   */
  private static List<String> commandLine(long pid) {
    try {
      String raw =
          Files.readString(
              Path.of("/proc", Long.toString(pid), "cmdline"),
              java.nio.charset.StandardCharsets.UTF_8);
      return List.of(raw.split("\0"));
    } catch (IOException e) {
      return List.of();
    }
  }

  private static List<Double> peakMib(List<Long> pids) throws IOException {
    List<Double> peaks = new ArrayList<>();
    for (long pid : pids) {
      long kib = PathProbe.procStatusKib(Path.of("/proc", Long.toString(pid), "status"), "VmHWM:");
      if (kib > 0) {
        peaks.add(kib / 1024.0);
      }
    }
    return peaks;
  }

  /**
   * Sums the "used" of every generation line of {@code jcmd PID GC.heap_info}; NaN when jcmd is not
   * there or answers otherwise.
   */
  static double heapUsedMib(long pid) {
    try {
      Process jcmd =
          new ProcessBuilder(
                  Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(),
                  Long.toString(pid),
                  "GC.heap_info")
              .redirectErrorStream(true)
              .start();
      String output = new String(jcmd.getInputStream().readAllBytes());
      if (jcmd.waitFor() != 0) {
        return Double.NaN;
      }
      double usedKib = 0;
      boolean found = false;
      for (String line : output.split("\n")) {
        var matcher =
            java.util.regex.Pattern.compile("(generation|space|heap)\\s+total \\d+K, used (\\d+)K")
                .matcher(line);
        if (matcher.find() && !line.contains("Metaspace") && !line.contains("class space")) {
          usedKib += Long.parseLong(matcher.group(2));
          found = true;
        }
      }
      return found ? usedKib / 1024 : Double.NaN;
    } catch (IOException e) {
      return Double.NaN;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Double.NaN;
    }
  }
}
