package dev.vfio.e2e;

import static org.awaitility.Awaitility.await;

import dev.vfio.api.v1alpha1.Condition;
import dev.vfio.api.v1alpha1.Conditions;
import dev.vfio.api.v1alpha1.MigrationPhase;
import dev.vfio.api.v1alpha1.SnapshotPhase;
import dev.vfio.api.v1alpha1.VfioMigration;
import dev.vfio.api.v1alpha1.VfioNode;
import dev.vfio.api.v1alpha1.VfioSnapshot;
import dev.vfio.api.v1alpha1.VfioSnapshotSchedule;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.stream.Stream;
import org.awaitility.core.ConditionTimeoutException;

/**
 * The sandbox: one command starts a cluster on this machine (a real kube-apiserver and etcd, the
 * operator, two simulated nodes with simulated devices, all in a temporary directory), applies the
 * shipped examples as a user would, shows the snapshots' progress while they run and their final
 * status as {@code kubectl get} prints it, then keeps the cluster up until Ctrl-C.
 *
 * <p>Run it with {@code mvn -Psandbox -DskipTests verify} from the repository root, which runs this
 * class in a JVM of its own: the operator and the agents are started with that JVM's class path.
 * {@code --exit} (through Maven: {@code -Dsandbox.args=--exit}) stops after the final status
 * instead of waiting for Ctrl-C, with exit status 0 only if every snapshot became Ready.
 *
 * <p>With no scheduler in the cluster the sandbox plays it: each example pod goes to the node that
 * has the simulated devices its {@code vfio.dev/simulated-devices} annotation names, and is created
 * as it looks once running there.
 *
 * <p>Past 300 lines: it is the user-facing walkthrough (print, apply, wait, show) of every example,
 * which reads best as one script.
 */
public final class Sandbox implements AutoCloseable {
  static final String EXIT = "--exit";
  private static final long MIB = 1L << 20;

  /** Slow enough to watch the progress bars move for a few seconds, fast enough not to bore. */
  private static final long BYTES_PER_SECOND = 32 * MIB;

  private static final Duration NODE_PATIENCE = Duration.ofSeconds(60);
  private static final Duration SNAPSHOT_PATIENCE = Duration.ofMinutes(3);
  private static final String SIMULATED_DEVICES = "vfio.dev/simulated-devices";
  private static final String DEFAULT_NAMESPACE = "default";

  /**
   * Each node's devices: a large GPU that iterates PRE_COPY and a smaller one that does not, so the
   * examples' precopy setting has something to act on. node-b's mirror node-a's: the target pod of
   * the migration examples runs there.
   */
  static final Map<String, List<SimulatedNode.Device>> NODES =
      Map.of(
          "node-a",
              List.of(gpu("0000:3b:00.0", 64 * MIB, true), gpu("0000:3b:00.1", 16 * MIB, false)),
          "node-b",
              List.of(gpu("0000:5e:00.0", 64 * MIB, true), gpu("0000:5e:00.1", 16 * MIB, false)));

  private final Path examples;
  private final Path workDirectory;
  private final PrintStream out;
  private final boolean redrawInPlace;
  private final Clock clock = Clock.systemUTC();
  private final SandboxPrinterColumns snapshotColumns =
      SandboxPrinterColumns.forCrd("vfiosnapshots.vfio.dev");
  private final SandboxPrinterColumns migrationColumns =
      SandboxPrinterColumns.forCrd("vfiomigrations.vfio.dev");
  private LocalCluster cluster;
  private boolean closed;

  /**
   * What the examples came to.
   *
   * @param snapshots the example snapshots as they ended (or stood when patience ran out)
   * @param finalTable the {@code kubectl get vsnap -o wide} table printed at the end
   */
  public record Outcome(
      List<VfioSnapshot> snapshots, String finalTable, List<VfioMigration> migrations) {
    public boolean allReady() {
      return !snapshots.isEmpty()
          && snapshots.stream().allMatch(s -> phase(s) == SnapshotPhase.Ready)
          && migrations.stream()
              .allMatch(
                  m ->
                      m.getStatus() != null
                          && m.getStatus().getPhase() == MigrationPhase.Succeeded);
    }
  }

  /**
   * @param examples the repository's {@code examples/} directory
   * @param workDirectory where the cluster keeps its nodes, storage and logs
   * @param out where the sandbox reports
   * @param redrawInPlace whether {@code out} is a terminal that understands ANSI cursor movement
   */
  public Sandbox(Path examples, Path workDirectory, PrintStream out, boolean redrawInPlace) {
    this.examples = examples;
    this.workDirectory = workDirectory;
    this.out = out;
    this.redrawInPlace = redrawInPlace;
  }

  public static void main(String[] args) throws Exception {
    Set<String> options = Set.copyOf(Arrays.stream(args).filter(a -> !a.isBlank()).toList());
    if (!Set.of(EXIT).containsAll(options)) {
      System.err.println(
          "usage: Sandbox [--exit]   (--exit: stop after the final status instead of waiting for Ctrl-C)");
      System.exit(2);
    }
    Path work = Files.createTempDirectory("vfio-sandbox-");
    boolean terminal = System.console() != null && !"dumb".equals(System.getenv("TERM"));
    Sandbox sandbox = new Sandbox(SourceTree.current().examples(), work, System.out, terminal);
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  if (sandbox.close(true)) {
                    System.out.println("sandbox stopped; removed " + work);
                  }
                  stopped.countDown();
                },
                "sandbox-shutdown"));
    Outcome outcome;
    try {
      outcome = sandbox.run();
    } catch (Exception e) {
      System.err.println(
          "sandbox failed: "
              + (e instanceof ConditionTimeoutException || e instanceof IllegalStateException
                  ? e.getMessage()
                  : e));
      System.err.println("logs of the operator and agents: " + work.resolve("logs"));
      sandbox.close(false);
      System.exit(1);
      return;
    }
    if (options.contains(EXIT)) {
      boolean ready = outcome.allReady();
      sandbox.close(ready);
      System.out.println(ready ? "removed " + work : "kept " + work + " for its logs");
      System.exit(ready ? 0 : 1);
    }
    System.out.println();
    System.out.println("The cluster keeps running; Ctrl-C stops it and removes " + work + ".");
    stopped.await();
  }

  /** Starts the cluster, applies the examples and follows the snapshots to their end. */
  public Outcome run() throws IOException, InterruptedException {
    out.println("vfio-operator sandbox");
    out.println("  work directory  " + workDirectory + "  (component logs in logs/)");
    cluster = LocalCluster.start(workDirectory);
    out.println(
        "  API server      "
            + cluster.apiServerUrl()
            + "  (kube-apiserver "
            + cluster.source().kubernetesVersion()
            + " + etcd, RBAC from the Helm chart)");
    for (String node : NODES.keySet().stream().sorted().toList()) {
      cluster.addNode(node, NODES.get(node));
      out.println("  " + node + "          agent with " + describe(NODES.get(node)));
    }
    cluster.startOperator(Map.of());
    out.println("  operator        started");
    for (String node : NODES.keySet().stream().sorted().toList()) {
      awaitNodeReady(node);
    }
    Kubectl kubectl = cluster.kubectl();
    out.println("  kubectl         in another terminal, while the sandbox runs:");
    out.println("                  export KUBECONFIG=" + kubectl.kubeconfig());
    out.println("                  export PATH=" + kubectl.binary().getParent() + ":$PATH");
    out.println("                  kubectl get vsnap,vmig,vfionodes");
    out.println();

    Map<String, Pod> pods = new LinkedHashMap<>();
    for (Path file : yamlFiles(examples.resolve("sandbox"))) {
      for (HasMetadata item : load(file)) {
        if (!(item instanceof Pod pod)) {
          out.println(
              "skipping " + display(file) + ": " + item.getKind() + " is not a sandbox pod");
          continue;
        }
        Pod created = schedule(pod);
        pods.put(key(created), created);
        out.println(
            "applied  "
                + display(file)
                + "  pod/"
                + created.getMetadata().getName()
                + " running on "
                + created.getSpec().getNodeName());
      }
    }
    List<VfioSnapshot> snapshots = new ArrayList<>();
    List<VfioMigration> migrations = new ArrayList<>();
    boolean schedules = false;
    for (Path file : yamlFiles(examples)) {
      for (HasMetadata item : load(file)) {
        switch (item.getKind()) {
          case "VfioSnapshot" -> {
            VfioSnapshot snapshot =
                cluster
                    .client()
                    .getKubernetesSerialization()
                    .convertValue(item, VfioSnapshot.class);
            requirePod(file, snapshot, pods);
            snapshots.add(cluster.client().resource(snapshot).create());
            out.println(
                "applied  " + display(file) + "  vfiosnapshot/" + snapshot.getMetadata().getName());
          }
          case "VfioSnapshotSchedule" -> {
            // Its runs are hours apart: the sandbox shows it waiting for the next one.
            cluster
                .client()
                .resource(
                    cluster
                        .client()
                        .getKubernetesSerialization()
                        .convertValue(item, VfioSnapshotSchedule.class))
                .create();
            out.println(
                "applied  "
                    + display(file)
                    + "  vfiosnapshotschedule/"
                    + item.getMetadata().getName());
            schedules = true;
          }
          case "VfioMigration" -> {
            // Applied once the snapshots ended: a restore needs its snapshot Ready.
            migrations.add(
                cluster
                    .client()
                    .getKubernetesSerialization()
                    .convertValue(item, VfioMigration.class));
            out.println(
                "queued   "
                    + display(file)
                    + "  vfiomigration/"
                    + item.getMetadata().getName()
                    + "  (applied after the snapshots)");
          }
          default ->
              out.println(
                  "skipping "
                      + display(file)
                      + ": "
                      + item.getKind()
                      + " is not an example the sandbox applies");
        }
      }
    }
    if (snapshots.isEmpty()) {
      throw new IllegalStateException("no VfioSnapshot example in " + examples);
    }
    out.println();

    List<VfioSnapshot> ended = follow(snapshots);
    out.println();
    List<VfioMigration> migrated = migrate(migrations);
    // The final tables are kubectl's own, from the printer columns the API server serves.
    String namespace = namespace(snapshots.get(0));
    String finalTable = kubectl.ok("get", "vsnap", "-o", "wide", "-n", namespace);
    out.println("$ kubectl get vsnap -o wide");
    out.print(finalTable);
    out.println();
    out.println("$ kubectl get vfionodes");
    out.print(kubectl.ok("get", "vfionodes"));
    out.println();
    if (!migrated.isEmpty()) {
      out.println("$ kubectl get vmig -o wide");
      out.print(kubectl.ok("get", "vmig", "-o", "wide", "-n", namespace));
      out.println();
    }
    if (schedules) {
      out.println("$ kubectl get vsched -o wide");
      out.print(kubectl.ok("get", "vsched", "-o", "wide", "-n", namespace));
      out.println();
    }
    Outcome outcome = new Outcome(ended, finalTable, migrated);
    long ready = ended.stream().filter(s -> phase(s) == SnapshotPhase.Ready).count();
    out.println(ready + " of " + ended.size() + " snapshots Ready");
    for (VfioSnapshot snapshot : ended) {
      if (phase(snapshot) != SnapshotPhase.Ready) {
        Condition condition =
            snapshot.getStatus() == null
                ? null
                : Conditions.find(snapshot.getStatus().getConditions(), Conditions.READY);
        out.println(
            "  "
                + snapshot.getMetadata().getName()
                + " is "
                + phase(snapshot)
                + (condition == null
                    ? ""
                    : ": " + condition.getReason() + ": " + condition.getMessage()));
      }
    }
    return outcome;
  }

  /**
   * Applies the migration examples one after the other (they share a target pod) and follows each
   * to its end.
   */
  private List<VfioMigration> migrate(List<VfioMigration> queued) throws InterruptedException {
    List<VfioMigration> ended = new ArrayList<>();
    for (VfioMigration migration : queued) {
      out.println("applied  vfiomigration/" + migration.getMetadata().getName());
      VfioMigration created = cluster.client().resource(migration).create();
      SandboxProgress progress = new SandboxProgress(migrationColumns, out, redrawInPlace, clock);
      Instant deadline = clock.instant().plus(SNAPSHOT_PATIENCE);
      VfioMigration current = created;
      while (true) {
        current =
            cluster
                .client()
                .resources(VfioMigration.class)
                .inNamespace(namespace(created))
                .withName(created.getMetadata().getName())
                .get();
        progress.show(List.of(current));
        MigrationPhase phase = current.getStatus() == null ? null : current.getStatus().getPhase();
        if (phase == MigrationPhase.Succeeded
            || phase == MigrationPhase.Failed
            || clock.instant().isAfter(deadline)) {
          break;
        }
        // A frame rate for the display, not a wait for a condition.
        Thread.sleep(progress.frameInterval().toMillis());
      }
      out.println();
      ended.add(current);
    }
    return ended;
  }

  /** Redraws the snapshots' progress until each is Ready or Failed, or patience runs out. */
  private List<VfioSnapshot> follow(List<VfioSnapshot> created) throws InterruptedException {
    SandboxProgress progress = new SandboxProgress(snapshotColumns, out, redrawInPlace, clock);
    Instant deadline = clock.instant().plus(SNAPSHOT_PATIENCE);
    while (true) {
      List<VfioSnapshot> current =
          created.stream()
              .map(s -> cluster.snapshot(namespace(s), s.getMetadata().getName()))
              .toList();
      progress.show(current);
      if (current.stream().allMatch(Sandbox::isTerminal)) {
        return current;
      }
      if (clock.instant().isAfter(deadline)) {
        out.println("not all snapshots ended within " + SNAPSHOT_PATIENCE.toMinutes() + " minutes");
        return current;
      }
      // A frame rate for the display, not a wait for a condition: every frame shows the state as it
      // is.
      Thread.sleep(progress.frameInterval().toMillis());
    }
  }

  /**
   * The example pod as the scheduler and kubelet would leave it: bound to a node, running, ready.
   */
  private Pod schedule(Pod pod) {
    return cluster.runningPod(
        new PodBuilder(pod)
            .editMetadata()
            .withNamespace(namespace(pod))
            .endMetadata()
            .editSpec()
            .withNodeName(nodeFor(pod))
            .endSpec()
            .build());
  }

  /**
   * The node that has every simulated device the pod asks for; pods asking for none go to the first
   * node.
   */
  private static String nodeFor(Pod pod) {
    Map<String, String> annotations = pod.getMetadata().getAnnotations();
    String wanted = annotations == null ? null : annotations.get(SIMULATED_DEVICES);
    List<String> devices =
        wanted == null || wanted.isBlank()
            ? List.of()
            : Arrays.stream(wanted.split(",")).map(String::trim).toList();
    return NODES.keySet().stream()
        .sorted()
        .filter(
            node ->
                NODES.get(node).stream()
                    .map(SimulatedNode.Device::address)
                    .toList()
                    .containsAll(devices))
        .findFirst()
        .orElseThrow(
            () ->
                new IllegalStateException(
                    "pod "
                        + pod.getMetadata().getName()
                        + " asks for devices "
                        + devices
                        + " that no sandbox node has; the nodes have "
                        + describeAll()));
  }

  /** An example snapshot of a pod the sandbox did not create would only demonstrate PodNotFound. */
  private void requirePod(Path file, VfioSnapshot snapshot, Map<String, Pod> pods) {
    String pod = snapshot.getSpec() == null ? null : snapshot.getSpec().getPodName();
    if (!pods.containsKey(namespace(snapshot) + "/" + pod)) {
      throw new IllegalStateException(
          display(file)
              + " snapshots pod "
              + namespace(snapshot)
              + "/"
              + pod
              + ", which no example under "
              + display(examples.resolve("sandbox"))
              + " creates; it has "
              + pods.keySet());
    }
  }

  private void awaitNodeReady(String node) {
    KubernetesClient client = cluster.client();
    await("agent of " + node + " ready (see logs/agent-" + node + ".log)")
        .atMost(NODE_PATIENCE)
        .pollInterval(Duration.ofMillis(200))
        .until(
            () -> {
              VfioNode vfioNode = client.resources(VfioNode.class).withName(node).get();
              Condition ready =
                  vfioNode == null || vfioNode.getStatus() == null
                      ? null
                      : Conditions.find(vfioNode.getStatus().getConditions(), Conditions.READY);
              return ready != null && Condition.TRUE.equals(ready.getStatus());
            });
  }

  private List<HasMetadata> load(Path file) throws IOException {
    try (InputStream yaml = Files.newInputStream(file)) {
      return cluster.client().load(yaml).items();
    }
  }

  private static List<Path> yamlFiles(Path directory) throws IOException {
    try (Stream<Path> files = Files.list(directory)) {
      return files
          .filter(f -> Files.isRegularFile(f) && f.getFileName().toString().matches(".*\\.ya?ml"))
          .sorted()
          .toList();
    }
  }

  private String display(Path file) {
    return examples.getParent().relativize(file).toString();
  }

  private static SimulatedNode.Device gpu(String address, long stateBytes, boolean precopy) {
    SimulatedNode.Device device =
        SimulatedNode.Device.of(address, stateBytes)
            .with("faults", Map.of("bytesPerSecond", BYTES_PER_SECOND));
    return precopy
        ? device
            .with("flags", List.of("STOP_COPY", "P2P", "PRE_COPY"))
            .with("dirtyBytesPerRound", 2 * MIB)
        : device;
  }

  private static String describe(List<SimulatedNode.Device> devices) {
    return devices.stream()
        .map(d -> d.address() + " (" + d.stateBytes() / MIB + " MiB)")
        .reduce((a, b) -> a + ", " + b)
        .orElse("no devices");
  }

  private static String describeAll() {
    return NODES.keySet().stream()
        .sorted()
        .map(n -> n + ": " + describe(NODES.get(n)))
        .reduce((a, b) -> a + "; " + b)
        .orElse("");
  }

  private static String key(Pod pod) {
    return namespace(pod) + "/" + pod.getMetadata().getName();
  }

  private static String namespace(HasMetadata resource) {
    String namespace = resource.getMetadata().getNamespace();
    return namespace == null || namespace.isEmpty() ? DEFAULT_NAMESPACE : namespace;
  }

  static SnapshotPhase phase(VfioSnapshot snapshot) {
    return snapshot == null || snapshot.getStatus() == null
        ? null
        : snapshot.getStatus().getPhase();
  }

  private static boolean isTerminal(VfioSnapshot snapshot) {
    SnapshotPhase phase = phase(snapshot);
    return phase == SnapshotPhase.Ready || phase == SnapshotPhase.Failed;
  }

  /**
   * Stops the operator, the agents and the API server.
   *
   * @param removeWorkDirectory also delete the work directory with its blobs, device state and logs
   * @return whether this call stopped the cluster (false if it was stopped before)
   */
  public synchronized boolean close(boolean removeWorkDirectory) {
    if (closed) {
      return false;
    }
    closed = true;
    if (cluster != null) {
      cluster.close();
    }
    if (removeWorkDirectory) {
      try (Stream<Path> tree = Files.walk(workDirectory)) {
        for (Path path : tree.sorted(Comparator.reverseOrder()).toList()) {
          Files.deleteIfExists(path);
        }
      } catch (IOException e) {
        out.println("could not remove " + workDirectory + ": " + e.getMessage());
      }
    }
    return true;
  }

  /**
   * Stops the cluster and keeps the work directory, for whoever created it to inspect or remove.
   */
  @Override
  public void close() {
    close(false);
  }
}
