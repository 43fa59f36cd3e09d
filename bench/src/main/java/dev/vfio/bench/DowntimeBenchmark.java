package dev.vfio.bench;

import static org.awaitility.Awaitility.await;

import dev.vfio.api.v1alpha1.MigrationPhase;
import dev.vfio.api.v1alpha1.MigrationSource;
import dev.vfio.api.v1alpha1.PrecopySpec;
import dev.vfio.api.v1alpha1.VfioMigration;
import dev.vfio.api.v1alpha1.VfioMigrationSpec;
import dev.vfio.e2e.SimulatedNode;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Downtime of a live migration through the real cluster (operator and two agents, each its own
 * process): a simulated device whose state streams at a fixed rate, so that copying dominates,
 * migrated with PRE_COPY and without (spec.precopy.enabled=false), and with PRE_COPY at several
 * dirty rates. Downtime is the operator's {@code status.downtimeMillis}: from the source device
 * leaving RUNNING to the target running the state.
 */
final class DowntimeBenchmark implements Benchmark {
  static final String NAME = "downtime";
  static final String STOP_COPY_ONLY = "STOP_COPY only";
  static final String DOWNTIME = "downtime";
  static final String TOTAL = "migration time";
  private static final Duration PATIENCE = Duration.ofMinutes(3);

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public void run(Settings settings, Results results) throws Exception {
    List<Long> rates = settings.dirtyBytesPerRound();
    // One fresh source and target device per migration: a migrated source stays stopped.
    List<SimulatedNode.Device> sources = new ArrayList<>();
    List<SimulatedNode.Device> targets = new ArrayList<>();
    List<String> variants = new ArrayList<>();
    variants.add(STOP_COPY_ONLY);
    rates.forEach(rate -> variants.add(precopy(rate)));
    int migrations = settings.runs() * variants.size();
    for (int i = 0; i < migrations; i++) {
      long dirty =
          i % variants.size() == 0
              ? rates.get(rates.size() - 1)
              : rates.get(i % variants.size() - 1);
      sources.add(
          SimulatedNode.Device.of(address(0x3b, i), settings.downtimeStateBytes())
              .with("flags", List.of("STOP_COPY", "P2P", "PRE_COPY"))
              .with("dirtyBytesPerRound", dirty)
              .with("faults", Map.of("bytesPerSecond", settings.downtimeBytesPerSecond())));
      targets.add(
          SimulatedNode.Device.of(address(0xaf, i), settings.downtimeStateBytes())
              .with("flags", List.of("STOP_COPY", "P2P", "PRE_COPY")));
    }
    Map<String, List<SimulatedNode.Device>> nodes = new LinkedHashMap<>();
    nodes.put("node-a", sources);
    nodes.put("node-b", targets);
    String scenario =
        Settings.size(settings.downtimeStateBytes())
            + " at "
            + Settings.size(settings.downtimeBytesPerSecond())
            + "/s";
    try (BenchCluster cluster = BenchCluster.start(settings.work().resolve(NAME), nodes)) {
      KubernetesClient client = cluster.local().client();
      for (int run = 0; run < settings.runs(); run++) {
        for (int v = 0; v < variants.size(); v++) {
          // Rotate, so no variant always runs first in a run.
          int variant = (v + run) % variants.size();
          int index = run * variants.size() + variant;
          String name = "m-" + index;
          cluster
              .local()
              .runningPod(BenchCluster.NAMESPACE, name + "-source", "node-a", address(0x3b, index));
          cluster
              .local()
              .runningPod(BenchCluster.NAMESPACE, name + "-target", "node-b", address(0xaf, index));
          client
              .pods()
              .inNamespace(BenchCluster.NAMESPACE)
              .withName(name + "-target")
              .edit(
                  pod -> {
                    pod.getMetadata().getAnnotations().put("vfio.dev/restore-target", "true");
                    return pod;
                  });
          long start = System.nanoTime();
          VfioMigration done = migrate(client, name, variant == 0);
          double seconds = (System.nanoTime() - start) / 1e9;
          String label = variants.get(variant);
          results.record(
              NAME, scenario, label, DOWNTIME, "ms", done.getStatus().getDowntimeMillis());
          results.record(NAME, scenario, label, TOTAL, "s", seconds);
        }
      }
    }
    for (long rate : rates) {
      results.compare(NAME, scenario, precopy(rate), STOP_COPY_ONLY, DOWNTIME, Double.NaN);
    }
  }

  private static VfioMigration migrate(KubernetesClient client, String name, boolean stopCopyOnly) {
    VfioMigration migration = new VfioMigration();
    migration.setMetadata(
        new ObjectMetaBuilder().withNamespace(BenchCluster.NAMESPACE).withName(name).build());
    VfioMigrationSpec spec = new VfioMigrationSpec();
    spec.setSource(new MigrationSource());
    spec.getSource().setPodName(name + "-source");
    spec.setTargetPodName(name + "-target");
    spec.setTimeout("10m");
    if (stopCopyOnly) {
      PrecopySpec precopy = new PrecopySpec();
      precopy.setEnabled(false);
      spec.setPrecopy(precopy);
    }
    migration.setSpec(spec);
    client.resource(migration).create();
    await(name + " done")
        .atMost(PATIENCE)
        .pollInterval(Duration.ofMillis(100))
        .until(
            () -> {
              VfioMigration now =
                  client
                      .resources(VfioMigration.class)
                      .inNamespace(BenchCluster.NAMESPACE)
                      .withName(name)
                      .get();
              MigrationPhase phase = now.getStatus() == null ? null : now.getStatus().getPhase();
              if (phase == MigrationPhase.Failed) {
                throw new IllegalStateException(
                    name + " failed: " + Serialization.asYaml(now.getStatus()));
              }
              return phase == MigrationPhase.Succeeded;
            });
    return client
        .resources(VfioMigration.class)
        .inNamespace(BenchCluster.NAMESPACE)
        .withName(name)
        .get();
  }

  static String precopy(long dirtyBytesPerRound) {
    return "PRE_COPY, " + Settings.size(dirtyBytesPerRound) + " dirty/round";
  }

  static String address(int bus, int index) {
    return String.format("0000:%02x:%02x.%d", bus + index / 32 / 8, index / 8 % 32, index % 8);
  }
}
