package dev.vfio.bench;

import static org.awaitility.Awaitility.await;

import dev.vfio.api.v1alpha1.SnapshotPhase;
import dev.vfio.api.v1alpha1.VfioSnapshot;
import dev.vfio.api.v1alpha1.VfioSnapshotSpec;
import dev.vfio.e2e.ApiRequestCounts;
import dev.vfio.e2e.SimulatedNode;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The control plane at scale: N VfioSnapshots of small simulated devices spread over the simulated
 * nodes of a local cluster, created at once; the time until all are Ready, snapshots per second,
 * the API requests per snapshot, and the memory of the operator and the agents. Every pass starts a
 * new cluster. The baseline, measured in the same pass against the same API server, is what the API
 * server allows: N objects created and each written once more, by one client, with no operator in
 * the way.
 */
final class ControlPlaneBenchmark implements Benchmark {
  static final String NAME = "control";
  static final String SNAPSHOTS = "VfioSnapshots";
  static final String API_FLOOR = "API create+update floor";
  static final String THROUGHPUT = "objects per second";
  static final String TIME = "time to all Ready";
  static final String REQUESTS = "API requests of operator and agents";
  static final String CPU = "CPU seconds";
  static final long DEVICE_BYTES = 64 * 1024;
  private static final Duration PATIENCE = Duration.ofMinutes(15);

  /**
   * The agents' report intervals as shipped (AgentConfig, the chart's values), not the harness's
   * shorter ones, which make end-to-end tests quick to see progress: what the control plane costs
   * depends on them.
   */
  private static final Map<String, String> SHIPPED_AGENT_INTERVALS =
      Map.of("VFIO_HEARTBEAT_INTERVAL", "10s", "VFIO_PROGRESS_INTERVAL", "500ms");

  @Override
  public String name() {
    return "controlplane";
  }

  @Override
  public void run(Settings settings, Results results) throws Exception {
    // The full run repeats the largest count at most three times: each pass of 1,000 takes minutes.
    int runs = Math.min(settings.runs(), 3);
    List<Integer> counts = settings.snapshotCounts();
    for (int run = 0; run < runs; run++) {
      for (int count : counts) {
        String prefix = "r" + run + "-n" + count;
        // Each pass on a new cluster: an etcd holding no objects of earlier passes.
        try (BenchCluster cluster =
            BenchCluster.start(
                settings.work().resolve(NAME),
                nodesFor(count, settings.nodes()),
                SHIPPED_AGENT_INTERVALS)) {
          pass(cluster, settings.nodes(), count, prefix, results);
        }
      }
    }
    for (int count : counts) {
      results.compare(
          NAME,
          count + " on " + settings.nodes() + " nodes",
          SNAPSHOTS,
          API_FLOOR,
          THROUGHPUT,
          Double.NaN);
    }
  }

  /** {@code count} devices of {@link #DEVICE_BYTES} spread over {@code nodes} nodes. */
  private static Map<String, List<SimulatedNode.Device>> nodesFor(int count, int nodes) {
    int perNode = (count + nodes - 1) / nodes;
    Map<String, List<SimulatedNode.Device>> devices = new LinkedHashMap<>();
    for (int n = 0; n < nodes; n++) {
      List<SimulatedNode.Device> ofNode = new ArrayList<>();
      for (int d = 0; d < perNode; d++) {
        ofNode.add(SimulatedNode.Device.of(address(n, d), DEVICE_BYTES));
      }
      devices.put(nodeName(n), ofNode);
    }
    return devices;
  }

  /** The API floor, then {@code count} snapshots on a cluster of its own, and what they cost. */
  private static void pass(
      BenchCluster cluster, int nodes, int count, String prefix, Results results) throws Exception {
    KubernetesClient client = cluster.local().client();
    String scenario = count + " on " + nodes + " nodes";
    // Pods first and not timed: a scheduler would have placed them long before.
    List<String> pods = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      int node = i % nodes;
      String pod = prefix + "-pod-" + i;
      cluster
          .local()
          .runningPod(BenchCluster.NAMESPACE, pod, nodeName(node), address(node, i / nodes));
      pods.add(pod);
    }
    double floor = apiFloor(client, prefix, count);
    results.record(NAME, scenario, API_FLOOR, THROUGHPUT, "1/s", count / floor);
    cluster.local().requests().reset();
    Map<String, Double> cpuBefore = cluster.cpuSeconds();
    double seconds = snapshotAll(client, prefix, pods);
    Map<String, Double> cpuAfter = cluster.cpuSeconds();
    var requests = cluster.local().requests().snapshot();
    printRequests(prefix, count, seconds, requests);
    // On 2 cores a pass can use at most 2 × its seconds; where they went says what bounds it.
    cpuAfter.forEach(
        (component, total) -> {
          double used = total - cpuBefore.getOrDefault(component, 0.0);
          System.out.printf(
              Locale.ROOT,
              "  CPU of %-40s %7.1f s of %.1f s on %d cores%n",
              component,
              used,
              seconds,
              Runtime.getRuntime().availableProcessors());
          results.record(NAME, scenario, component, CPU, "s", used);
        });
    results.record(
        NAME,
        scenario,
        SNAPSHOTS,
        REQUESTS,
        "1/snapshot",
        componentRequests(requests) / (double) count);
    results.record(NAME, scenario, SNAPSHOTS, THROUGHPUT, "1/s", count / seconds);
    results.record(NAME, scenario, SNAPSHOTS, TIME, "s", seconds);
    cluster
        .operatorPeakMib()
        .ifPresent(mib -> results.record(NAME, scenario, "operator", "peak RSS", "MiB", mib));
    cluster.agentPeaksMib().stream()
        .mapToDouble(Double::doubleValue)
        .max()
        .ifPresent(mib -> results.record(NAME, scenario, "largest agent", "peak RSS", "MiB", mib));
    cluster
        .operatorHeapMib()
        .ifPresent(mib -> results.record(NAME, scenario, "operator", "heap used", "MiB", mib));
    cluster.agentHeapsMib().stream()
        .mapToDouble(Double::doubleValue)
        .max()
        .ifPresent(mib -> results.record(NAME, scenario, "largest agent", "heap used", "MiB", mib));
  }

  /** Creates one snapshot per pod, all at once, and waits until every one is Ready. */
  private static double snapshotAll(KubernetesClient client, String prefix, List<String> pods) {
    long start = System.nanoTime();
    for (int i = 0; i < pods.size(); i++) {
      VfioSnapshot snapshot = new VfioSnapshot();
      snapshot.setMetadata(
          new ObjectMetaBuilder()
              .withNamespace(BenchCluster.NAMESPACE)
              .withName(prefix + "-snap-" + i)
              .withLabels(Map.of("bench", prefix))
              .build());
      VfioSnapshotSpec spec = new VfioSnapshotSpec();
      spec.setPodName(pods.get(i));
      snapshot.setSpec(spec);
      client.resource(snapshot).create();
    }
    await(prefix + ": all Ready")
        .atMost(PATIENCE)
        .pollInterval(Duration.ofMillis(250))
        .until(
            () -> {
              List<VfioSnapshot> all =
                  client
                      .resources(VfioSnapshot.class)
                      .inNamespace(BenchCluster.NAMESPACE)
                      .withLabel("bench", prefix)
                      .list()
                      .getItems();
              long failed =
                  all.stream()
                      .filter(
                          s ->
                              s.getStatus() != null
                                  && s.getStatus().getPhase() == SnapshotPhase.Failed)
                      .count();
              if (failed > 0) {
                throw new IllegalStateException(prefix + ": " + failed + " snapshots Failed");
              }
              return all.stream()
                      .filter(
                          s ->
                              s.getStatus() != null
                                  && s.getStatus().getPhase() == SnapshotPhase.Ready)
                      .count()
                  == pods.size();
            });
    return (System.nanoTime() - start) / 1e9;
  }

  /** The operator's and the agents' requests: the benchmark's own polling is not theirs. */
  private static long componentRequests(
      Map<ApiRequestCounts.Kind, ApiRequestCounts.Tally> requests) {
    return requests.entrySet().stream()
        .filter(e -> e.getKey().caller().startsWith("vfio-"))
        .mapToLong(e -> e.getValue().requests())
        .sum();
  }

  /** Where the API server's time went in one pass: what a change to the control plane must move. */
  private static void printRequests(
      String prefix,
      int count,
      double seconds,
      Map<ApiRequestCounts.Kind, ApiRequestCounts.Tally> requests) {
    System.out.printf(
        Locale.ROOT,
        "%s: %d snapshots in %.1f s; API requests (per snapshot, server ms):%n",
        prefix,
        count,
        seconds);
    requests.forEach(
        (kind, tally) ->
            System.out.printf(
                Locale.ROOT,
                "  %-55s %7d %7.2f %9.0f%n",
                kind,
                tally.requests(),
                tally.requests() / (double) count,
                tally.nanos() / 1e6));
  }

  /** N ConfigMaps created and each updated once: the fewest writes a reconciled object costs. */
  private static double apiFloor(KubernetesClient client, String prefix, int count) {
    long start = System.nanoTime();
    for (int i = 0; i < count; i++) {
      ConfigMap map =
          client
              .resource(
                  new ConfigMapBuilder()
                      .withNewMetadata()
                      .withNamespace(BenchCluster.NAMESPACE)
                      .withName(prefix + "-floor-" + i)
                      .endMetadata()
                      .addToData("phase", "Pending")
                      .build())
              .create();
      map.getData().put("phase", "Ready");
      client.resource(map).update();
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    // Not left for the snapshots' pass: the operator and agents do not watch ConfigMaps, but etcd
    // and the API server's watch cache hold them.
    for (int i = 0; i < count; i++) {
      client
          .configMaps()
          .inNamespace(BenchCluster.NAMESPACE)
          .withName(prefix + "-floor-" + i)
          .delete();
    }
    return seconds;
  }

  private static String nodeName(int node) {
    return String.format("node-%02d", node);
  }

  private static String address(int node, int index) {
    return String.format(
        "0000:%02x:%02x.%d", 0x10 + node * 4 + index / 256, index / 8 % 32, index % 8);
  }
}
