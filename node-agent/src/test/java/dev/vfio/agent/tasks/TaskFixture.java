package dev.vfio.agent.tasks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.vfio.agent.NodeBackend;
import dev.vfio.agent.blobs.BlobKey;
import dev.vfio.agent.blobs.BlobKeyRing;
import dev.vfio.agent.blobs.BlobStore;
import dev.vfio.agent.freeze.Quiescer;
import dev.vfio.agent.journal.DeviceJournal;
import dev.vfio.agent.journal.JournalEntry;
import dev.vfio.agent.pods.PodRef;
import dev.vfio.agent.sim.SimulatedBackend;
import dev.vfio.agent.sim.SimulatedDevice;
import dev.vfio.agent.sim.SimulatedDeviceSpec;
import dev.vfio.agent.sim.SimulatedDevices;
import dev.vfio.agent.sim.SimulatedFreezer;
import dev.vfio.agent.sim.SimulatedPodResolver;
import dev.vfio.agent.transport.CertificateAuthority;
import dev.vfio.agent.transport.TransportCredentials;
import dev.vfio.agent.vfio.MigrationState;
import dev.vfio.agent.vfio.VfioException;
import dev.vfio.api.v1alpha1.DeviceMapping;
import dev.vfio.api.v1alpha1.PodAnnotations;
import dev.vfio.api.v1alpha1.TaskOperation;
import dev.vfio.api.v1alpha1.VfioNodeTask;
import dev.vfio.api.v1alpha1.VfioNodeTaskSpec;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * One simulated node to run task operations on in a test, without an API server: simulated devices,
 * the simulated freezer (with every freeze recorded), a journal and one storage claim in a test's
 * directory, and the pods the tasks name. Operations run directly, on a {@link RecordedTask}'s
 * context.
 */
final class TaskFixture implements AutoCloseable {
  /** The operator's blob key on this node. */
  static final BlobKey KEY = BlobKey.of(new byte[32]);

  static final String NODE = "node-a";
  static final String NAMESPACE = "default";
  static final String CLAIM = "claim-a";
  static final Duration IDLE = Duration.ofSeconds(10);
  static final TransportCredentials CREDENTIALS =
      CertificateAuthority.create("vfio-operator transport CA").issueAgent().credentials();

  final NodeBackend backend;
  final DeviceJournal journal;
  final BlobStore blobs;
  final PodDevices podDevices;

  /** Every pod the node's quiescer froze, in order. */
  final List<PodRef> freezes = new CopyOnWriteArrayList<>();

  /** The restore-status each pod was told last, by pod name. */
  private final Map<String, Pod> pods = new ConcurrentHashMap<>();

  private final SimulatedDevices devices;
  private final SimulatedFreezer freezer;
  private final Path claim;
  private final ScheduledExecutorService reports = Executors.newSingleThreadScheduledExecutor();

  private TaskFixture(
      Path directory, Function<Map<String, Path>, BlobStore> store, List<SimulatedDeviceSpec> specs)
      throws IOException {
    this.devices = SimulatedDevices.of(specs, directory.resolve("devices"));
    this.freezer = new SimulatedFreezer(directory);
    NodeBackend simulated = SimulatedBackend.of(devices, directory);
    Quiescer recording =
        new Quiescer() {
          @Override
          public void freeze(PodRef pod) throws IOException {
            freezes.add(pod);
            simulated.quiescer().freeze(pod);
          }

          @Override
          public void thaw(PodRef pod) throws IOException {
            simulated.quiescer().thaw(pod);
          }
        };
    this.backend =
        new NodeBackend(
            simulated.name(),
            simulated.inventory(),
            simulated.resolver(),
            simulated.access(),
            recording);
    this.journal = new DeviceJournal(directory.resolve("journal"));
    this.claim = Files.createDirectories(directory.resolve("claims").resolve(CLAIM));
    this.blobs = store.apply(Map.of(CLAIM, claim));
    TaskPods apiServer = (namespace, name, uid) -> pods.get(namespace + "/" + name);
    this.podDevices = new PodDevices(apiServer, new TargetOptIn(apiServer), backend, NODE);
  }

  static TaskFixture create(Path directory, SimulatedDeviceSpec... specs) throws IOException {
    return new TaskFixture(directory, BlobStore::new, List.of(specs));
  }

  /** A node whose storage claim is the blob store {@code store} makes of the claim roots. */
  static TaskFixture create(
      Path directory, Function<Map<String, Path>, BlobStore> store, SimulatedDeviceSpec... specs)
      throws IOException {
    return new TaskFixture(directory, store, List.of(specs));
  }

  SaveOperation save() {
    return new SaveOperation(
        podDevices, backend, blobs, () -> BlobKeyRing.of(KEY), journal, NODE, "6.1.0-test");
  }

  LoadOperation load() {
    return new LoadOperation(podDevices, blobs, () -> BlobKeyRing.of(KEY), false, journal);
  }

  /** A Load that takes blobs without a seal, as an agent told to accept them does. */
  LoadOperation loadAcceptingUnauthenticated() {
    return new LoadOperation(podDevices, blobs, () -> BlobKeyRing.of(KEY), true, journal);
  }

  /** A Load holding {@code key}, as an agent of another cluster would. */
  LoadOperation load(BlobKey key) {
    return new LoadOperation(podDevices, blobs, () -> BlobKeyRing.of(key), false, journal);
  }

  /** The UID the operator gives the snapshot whose blobs are in {@code blobDirectory}. */
  static String setUidOf(String blobDirectory) {
    return UUID.nameUUIDFromBytes(blobDirectory.getBytes(StandardCharsets.UTF_8)).toString();
  }

  SendOperation send() {
    return new SendOperation(
        podDevices, backend, journal, () -> CREDENTIALS, NODE, "6.1.0-test", IDLE);
  }

  ReceiveOperation receive() {
    return new ReceiveOperation(podDevices, journal, () -> CREDENTIALS, "127.0.0.1", IDLE);
  }

  ResumeOperation resume() {
    return new ResumeOperation(podDevices, backend.quiescer());
  }

  DeleteBlobsOperation deleteBlobs() {
    return new DeleteBlobsOperation(blobs);
  }

  /** A running pod on this node that holds {@code addresses}. */
  PodRef pod(String name, String... addresses) {
    Pod pod =
        new PodBuilder()
            .withMetadata(
                new ObjectMetaBuilder()
                    .withNamespace(NAMESPACE)
                    .withName(name)
                    .withUid(UUID.randomUUID().toString())
                    // Opted in as a restore target, as the operator requires of a Load or
                    // Receive target before it writes the task.
                    .withAnnotations(
                        Map.of(
                            SimulatedPodResolver.ANNOTATION,
                            String.join(",", addresses),
                            PodAnnotations.RESTORE_TARGET,
                            "true"))
                    .build())
            .withNewSpec()
            .withNodeName(NODE)
            .endSpec()
            .build();
    pods.put(NAMESPACE + "/" + name, pod);
    return PodRef.of(pod);
  }

  /** The user takes {@code pod}'s restore-target annotation off, as the API server then has it. */
  void withdrawOptIn(PodRef pod) {
    pods.computeIfPresent(
        NAMESPACE + "/" + pod.name(),
        (key, stored) ->
            new PodBuilder(stored)
                .editMetadata()
                .removeFromAnnotations(PodAnnotations.RESTORE_TARGET)
                .endMetadata()
                .build());
  }

  /** A task of {@code operation} on {@code pod}, its spec completed by {@code spec}. */
  RecordedTask task(TaskOperation operation, PodRef pod, Consumer<VfioNodeTaskSpec> spec) {
    VfioNodeTask task = new VfioNodeTask();
    task.setMetadata(
        new ObjectMetaBuilder()
            .withNamespace(NAMESPACE)
            .withName(pod.name() + "-" + operation.name().toLowerCase())
            .withUid(UUID.randomUUID().toString())
            .build());
    VfioNodeTaskSpec taskSpec = new VfioNodeTaskSpec();
    taskSpec.setOperation(operation);
    taskSpec.setNodeName(NODE);
    taskSpec.setPodName(pod.name());
    taskSpec.setPodUid(pod.uid());
    spec.accept(taskSpec);
    if (taskSpec.getBlobSetUid() == null && taskSpec.getBlobDirectory() != null) {
      // What the operator writes: the UID of the snapshot whose blobs these are.
      taskSpec.setBlobSetUid(setUidOf(taskSpec.getBlobDirectory()));
    }
    task.setSpec(taskSpec);
    return new RecordedTask(task, reports);
  }

  /**
   * Saves {@code devices} of {@code pod} into {@code snapshot} on the claim, as a snapshot does.
   */
  void saveSnapshot(
      PodRef pod, String snapshot, List<String> devices, Consumer<VfioNodeTaskSpec> more)
      throws TaskFailure, InterruptedException {
    save()
        .run(
            task(
                    TaskOperation.Save,
                    pod,
                    spec -> {
                      spec.setDevices(devices);
                      spec.setStorageClaim(CLAIM);
                      spec.setBlobDirectory(NAMESPACE + "/" + snapshot);
                      more.accept(spec);
                    })
                .context);
  }

  static DeviceMapping pair(String source, String target) {
    DeviceMapping mapping = new DeviceMapping();
    mapping.setSource(source);
    mapping.setTarget(target);
    return mapping;
  }

  /** Runs the operation, which must fail; returns why. */
  static TaskFailure failure(NodeOperation operation, RecordedTask task) {
    return assertThrows(TaskFailure.class, () -> operation.run(task.context));
  }

  SimulatedDevice device(String address) {
    try {
      return devices.open(address);
    } catch (VfioException e) {
      throw new IllegalArgumentException(e);
    }
  }

  /** Times the device has left RUNNING: unchanged means nothing stopped it. */
  long epoch(String address) {
    return device(address).epoch();
  }

  void assertState(MigrationState expected, String... addresses) throws VfioException {
    for (String address : addresses) {
      assertEquals(expected, device(address).state(), address);
    }
  }

  boolean frozen(PodRef pod) {
    return freezer.isFrozen(pod.uid());
  }

  List<JournalEntry> journaled() throws IOException {
    return journal.pending();
  }

  Path blob(String snapshot, String address) {
    return blobs.blobPath(CLAIM, NAMESPACE, snapshot, address);
  }

  /** Every file under the snapshot's directory, temporary ones included. */
  List<Path> filesOf(String snapshot) {
    Path directory = claim.resolve(NAMESPACE).resolve(snapshot);
    if (!Files.isDirectory(directory)) {
      return List.of();
    }
    try (Stream<Path> files = Files.list(directory)) {
      return files.toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public void close() {
    reports.shutdownNow();
  }
}
