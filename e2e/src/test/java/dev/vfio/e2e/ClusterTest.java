package dev.vfio.e2e;

import static org.awaitility.Awaitility.await;

import dev.vfio.agent.blobs.BlobIdentity;
import dev.vfio.agent.blobs.BlobKeySource;
import dev.vfio.agent.blobs.BlobReader;
import dev.vfio.agent.sim.SimulatedState;
import dev.vfio.api.v1alpha1.Condition;
import dev.vfio.api.v1alpha1.Conditions;
import dev.vfio.api.v1alpha1.NodeDevice;
import dev.vfio.api.v1alpha1.SnapshotPhase;
import dev.vfio.api.v1alpha1.VfioNode;
import dev.vfio.api.v1alpha1.VfioSnapshot;
import dev.vfio.api.v1alpha1.VfioSnapshotSpec;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.extension.TestWatcher;

/**
 * Base of the end-to-end scenarios: one local cluster per test class, with the operator and two
 * simulated nodes running as separate processes, driven only through the API server.
 */
abstract class ClusterTest {
  static final String NS = "default";
  static final Duration PATIENCE = Duration.ofSeconds(60);
  static LocalCluster cluster;
  static KubernetesClient client;

  @RegisterExtension
  final TestWatcher logsOnFailure =
      new TestWatcher() {
        @Override
        public void testFailed(ExtensionContext context, Throwable cause) {
          for (Path log :
              List.of(cluster.workDirectory().resolve("logs")).stream()
                  .flatMap(
                      dir -> {
                        try (var files = Files.list(dir)) {
                          return files.toList().stream();
                        } catch (IOException e) {
                          return java.util.stream.Stream.empty();
                        }
                      })
                  .toList()) {
            try {
              List<String> lines = Files.readAllLines(log);
              System.err.println("===== " + log.getFileName() + " (last 60 lines)");
              lines
                  .subList(Math.max(0, lines.size() - 60), lines.size())
                  .forEach(System.err::println);
            } catch (IOException e) {
              System.err.println("cannot read " + log + ": " + e);
            }
          }
        }
      };

  static void startCluster(
      Path workDirectory, List<SimulatedNode.Device> nodeA, List<SimulatedNode.Device> nodeB)
      throws Exception {
    startCluster(workDirectory, nodeA, nodeB, java.util.Map.of());
  }

  /** With the operator's environment {@code operatorSettings} over the harness's. */
  static void startCluster(
      Path workDirectory,
      List<SimulatedNode.Device> nodeA,
      List<SimulatedNode.Device> nodeB,
      java.util.Map<String, String> operatorSettings)
      throws Exception {
    cluster = LocalCluster.start(workDirectory);
    client = cluster.client();
    cluster.addNode("node-a", nodeA);
    cluster.addNode("node-b", nodeB);
    cluster.startOperator(operatorSettings);
    awaitNodeReady("node-a");
    awaitNodeReady("node-b");
  }

  @AfterAll
  static void stopCluster() throws Exception {
    if (cluster != null) {
      cluster.close();
    }
  }

  static void awaitNodeReady(String node) {
    await("agent of " + node + " ready")
        .atMost(PATIENCE)
        .until(
            () -> {
              VfioNode vfioNode = client.resources(VfioNode.class).withName(node).get();
              if (vfioNode == null || vfioNode.getStatus() == null) {
                return false;
              }
              Condition ready =
                  Conditions.find(vfioNode.getStatus().getConditions(), Conditions.READY);
              return ready != null && Condition.TRUE.equals(ready.getStatus());
            });
  }

  static VfioSnapshot createSnapshot(
      String name, String pod, Consumer<VfioSnapshotSpec> customize) {
    VfioSnapshot snapshot = new VfioSnapshot();
    snapshot.setMetadata(new ObjectMetaBuilder().withNamespace(NS).withName(name).build());
    VfioSnapshotSpec spec = new VfioSnapshotSpec();
    spec.setPodName(pod);
    customize.accept(spec);
    snapshot.setSpec(spec);
    return client.resource(snapshot).create();
  }

  static VfioSnapshot awaitPhase(String name, SnapshotPhase phase) {
    return awaitPhase(name, phase, PATIENCE);
  }

  static VfioSnapshot awaitPhase(String name, SnapshotPhase phase, Duration patience) {
    await(name + " " + phase)
        .atMost(patience)
        .pollInterval(Duration.ofMillis(200))
        .until(
            () -> {
              VfioSnapshot snapshot = cluster.snapshot(NS, name);
              SnapshotPhase current =
                  snapshot == null || snapshot.getStatus() == null
                      ? null
                      : snapshot.getStatus().getPhase();
              if (current != null
                  && current != phase
                  && (current == SnapshotPhase.Ready || current == SnapshotPhase.Failed)) {
                throw new AssertionError(
                    name
                        + " ended "
                        + current
                        + " instead of "
                        + phase
                        + ": "
                        + io.fabric8.kubernetes.client.utils.Serialization.asYaml(
                            snapshot.getStatus()));
              }
              return current == phase;
            });
    return cluster.snapshot(NS, name);
  }

  static Condition readyCondition(VfioSnapshot snapshot) {
    return Conditions.find(snapshot.getStatus().getConditions(), Conditions.READY);
  }

  static NodeDevice device(String node, String address) {
    return client.resources(VfioNode.class).withName(node).get().getStatus().getDevices().stream()
        .filter(d -> d.getAddress().equals(address))
        .findFirst()
        .orElseThrow();
  }

  /**
   * The blob of {@code address} in {@code snapshot}, its seal checked with the keys the operator
   * keeps in the chart's Secret, as an agent checks it.
   */
  static BlobReader sealedBlob(Path blob, VfioSnapshot snapshot, String address)
      throws IOException {
    BlobReader reader = BlobReader.open(blob);
    try {
      reader.authenticate(
          BlobKeySource.file(cluster.blobKeyFile()).ring(),
          new BlobIdentity(snapshot.getMetadata().getUid(), address));
      return reader;
    } catch (IOException | RuntimeException e) {
      reader.close();
      throw e;
    }
  }

  /**
   * Reads a blob as a loader would (every check) and returns the simulated device epoch it holds.
   */
  static long verifiedEpoch(Path blob, VfioSnapshot snapshot, String address) throws IOException {
    try (BlobReader reader = sealedBlob(blob, snapshot, address)) {
      reader.verify();
      ByteArrayOutputStream state = new ByteArrayOutputStream();
      reader.copyTo(
          chunk -> {
            byte[] bytes = new byte[chunk.remaining()];
            chunk.get(bytes);
            state.write(bytes);
          });
      return SimulatedState.verify(address, new ByteArrayInputStream(state.toByteArray()));
    }
  }
}
