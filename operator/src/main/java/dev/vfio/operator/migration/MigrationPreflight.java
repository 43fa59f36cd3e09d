package dev.vfio.operator.migration;

import dev.vfio.api.v1alpha1.ApiPatterns;
import dev.vfio.api.v1alpha1.DeviceMapping;
import dev.vfio.api.v1alpha1.DeviceResult;
import dev.vfio.api.v1alpha1.Durations;
import dev.vfio.api.v1alpha1.MigrationSource;
import dev.vfio.api.v1alpha1.NodeDevice;
import dev.vfio.api.v1alpha1.PodAnnotations;
import dev.vfio.api.v1alpha1.Reason;
import dev.vfio.api.v1alpha1.SnapshotPhase;
import dev.vfio.api.v1alpha1.Transport;
import dev.vfio.api.v1alpha1.Unrecognized;
import dev.vfio.api.v1alpha1.VfioMigration;
import dev.vfio.api.v1alpha1.VfioMigrationSpec;
import dev.vfio.api.v1alpha1.VfioNode;
import dev.vfio.api.v1alpha1.VfioSnapshot;
import dev.vfio.operator.config.OperatorConfig;
import dev.vfio.operator.preflight.NodeChecks;
import dev.vfio.operator.preflight.PeerDmaOrder;
import dev.vfio.operator.preflight.Rejection;
import dev.vfio.operator.preflight.StoppedSources;
import dev.vfio.operator.tasks.TaskSpecs;
import io.fabric8.kubernetes.api.model.Pod;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Decides whether a migration can start — before anything on any node is touched: the target opted
 * in, the source runs (or the snapshot is Ready), both agents are alive, and every source device
 * has a compatible, migratable target device.
 */
public final class MigrationPreflight {
  private static final Pattern DEVICE = Pattern.compile(ApiPatterns.DEVICE);
  private static final Pattern NAME = Pattern.compile(ApiPatterns.DNS_SUBDOMAIN);

  private final OperatorConfig config;
  private final NodeChecks checks;

  public MigrationPreflight(OperatorConfig config) {
    this.config = config;
    this.checks = new NodeChecks(config.agentHeartbeatTimeout());
  }

  /** Either a plan, a refusal, or a reason to look again shortly. */
  public sealed interface Outcome permits Accepted, Rejected, Waiting {}

  public record Accepted(MigrationPlan plan) implements Outcome {}

  public record Rejected(Rejection rejection) implements Outcome {}

  public record Waiting(Rejection why) implements Outcome {}

  /**
   * {@code migrations} are all the VfioMigrations, to find a source pod another migration left
   * stopped.
   */
  public Outcome check(
      VfioMigration migration,
      Function<String, Pod> pods,
      Function<String, VfioNode> nodes,
      Function<String, VfioSnapshot> snapshots,
      Supplier<List<VfioMigration>> migrations,
      Instant now) {
    VfioMigrationSpec spec = migration.getSpec();
    Rejection invalid = validate(spec);
    if (invalid != null) {
      return new Rejected(invalid);
    }
    String namespace = migration.getMetadata().getNamespace();
    Pod target = pods.apply(spec.getTargetPodName());
    Rejection targetProblem =
        checks.runningPod(target, "target pod", namespace, spec.getTargetPodName());
    if (targetProblem != null) {
      return new Rejected(targetProblem);
    }
    if (!optedIn(target)) {
      return reject(
          Reason.TARGET_NOT_OPTED_IN,
          "target pod "
              + spec.getTargetPodName()
              + " does not carry the annotation "
              + PodAnnotations.RESTORE_TARGET
              + ": \"true\"; the operator overwrites "
              + "the device state only of pods that opt in");
    }
    String targetNode = target.getSpec().getNodeName();
    VfioNode targetVfioNode = nodes.apply(targetNode);
    Rejection targetAgent = checks.agent(targetVfioNode, targetNode, now);
    if (targetAgent != null) {
      return new Rejected(targetAgent);
    }
    if (!checks.inventoryCovers(targetVfioNode, target)) {
      return waitForInventory(targetNode, spec.getTargetPodName());
    }
    List<DevicePairing.Device> targets =
        checks.heldBy(targetVfioNode, target).stream().map(MigrationPreflight::device).toList();
    if (targets.isEmpty()) {
      return reject(
          Reason.NO_VFIO_DEVICES,
          "target pod "
              + spec.getTargetPodName()
              + " holds no VFIO devices on node "
              + targetNode
              + ": give it the devices to restore into");
    }
    Duration timeout = Durations.parse(spec.getTimeout(), config.defaultTimeout());
    MigrationSource source = spec.getSource();
    if (source.getSnapshotName() != null) {
      return fromSnapshot(
          spec,
          namespace,
          snapshots.apply(source.getSnapshotName()),
          target,
          targetNode,
          targets,
          timeout);
    }
    Pod sourcePod = pods.apply(source.getPodName());
    Rejection sourceProblem =
        checks.runningPod(sourcePod, "source pod", namespace, source.getPodName());
    if (sourceProblem != null) {
      return new Rejected(sourceProblem);
    }
    Rejection stopped = StoppedSources.check(sourcePod, "source pod", migrations.get());
    if (stopped != null) {
      return new Rejected(stopped);
    }
    if (sourcePod.getMetadata().getUid().equals(target.getMetadata().getUid())) {
      return reject(Reason.INVALID_SPEC, "source and target are the same pod");
    }
    String sourceNode = sourcePod.getSpec().getNodeName();
    VfioNode sourceVfioNode = nodes.apply(sourceNode);
    Rejection sourceAgent = checks.agent(sourceVfioNode, sourceNode, now);
    if (sourceAgent != null) {
      return new Rejected(sourceAgent);
    }
    if (!checks.inventoryCovers(sourceVfioNode, sourcePod)) {
      return waitForInventory(sourceNode, source.getPodName());
    }
    List<NodeDevice> sourceHeld = checks.heldBy(sourceVfioNode, sourcePod);
    if (sourceHeld.isEmpty()) {
      return reject(
          Reason.NO_VFIO_DEVICES,
          "source pod " + source.getPodName() + " holds no VFIO devices on node " + sourceNode);
    }
    for (NodeDevice device : sourceHeld) {
      if (device.getMigrationFlags() == null || !device.getMigrationFlags().contains("STOP_COPY")) {
        return reject(
            Reason.DEVICE_NOT_MIGRATABLE,
            "source device "
                + device.getAddress()
                + " does not support VFIO migration (no STOP_COPY)");
      }
    }
    Optional<Rejection> unordered = PeerDmaOrder.check(sourceHeld);
    if (unordered.isPresent()) {
      return new Rejected(unordered.get());
    }
    List<DevicePairing.Device> sources =
        sourceHeld.stream().map(MigrationPreflight::device).toList();
    DevicePairing.Outcome pairing = DevicePairing.pair(sources, targets, spec.getDeviceMap());
    if (pairing.rejection() != null) {
      return new Rejected(pairing.rejection());
    }
    long expected =
        sourceHeld.stream()
            .mapToLong(d -> d.getStateSizeBytes() == null ? 0 : d.getStateSizeBytes())
            .sum();
    return new Accepted(
        new MigrationPlan(
            sourcePod,
            sourceNode,
            null,
            null,
            null,
            target,
            targetNode,
            pairing.pairs(),
            expected,
            timeout));
  }

  private Outcome fromSnapshot(
      VfioMigrationSpec spec,
      String namespace,
      VfioSnapshot snapshot,
      Pod target,
      String targetNode,
      List<DevicePairing.Device> targets,
      Duration timeout) {
    String name = spec.getSource().getSnapshotName();
    if (snapshot == null) {
      return reject(
          Reason.SNAPSHOT_NOT_FOUND,
          "snapshot " + namespace + "/" + name + " does not exist: fix spec.source.snapshotName");
    }
    if (snapshot.getStatus() == null || snapshot.getStatus().getPhase() != SnapshotPhase.Ready) {
      return reject(
          Reason.SNAPSHOT_NOT_READY,
          "snapshot "
              + name
              + " is "
              + (snapshot.getStatus() == null ? "not started" : snapshot.getStatus().getPhase())
              + ", not Ready: restore from a Ready snapshot");
    }
    List<DevicePairing.Device> sources =
        snapshot.getStatus().getDevices().stream().map(MigrationPreflight::device).toList();
    DevicePairing.Outcome pairing = DevicePairing.pair(sources, targets, spec.getDeviceMap());
    if (pairing.rejection() != null) {
      return new Rejected(pairing.rejection());
    }
    String claim =
        snapshot.getSpec().getStorageClaim() == null
            ? config.defaultStorageClaim()
            : snapshot.getSpec().getStorageClaim();
    long expected =
        snapshot.getStatus().getTotalBytes() == null ? 0 : snapshot.getStatus().getTotalBytes();
    return new Accepted(
        new MigrationPlan(
            null,
            null,
            claim,
            TaskSpecs.blobDirectory(namespace, name),
            snapshot.getMetadata().getUid(),
            target,
            targetNode,
            pairing.pairs(),
            expected,
            timeout));
  }

  private static Rejection validate(VfioMigrationSpec spec) {
    // Before any other check: under a newer schema, a field checked below may have given way to one
    // unknown here.
    List<Unrecognized> unknown = spec == null ? List.of() : spec.unrecognized("spec");
    if (!unknown.isEmpty()) {
      return Rejection.unrecognized(unknown);
    }
    if (spec == null || spec.getSource() == null) {
      return new Rejection(Reason.INVALID_SPEC, "spec.source is required");
    }
    MigrationSource source = spec.getSource();
    if ((source.getPodName() == null) == (source.getSnapshotName() == null)) {
      return new Rejection(
          Reason.INVALID_SPEC,
          "set exactly one of spec.source.podName and spec.source.snapshotName");
    }
    if (spec.getTargetPodName() == null || spec.getTargetPodName().isEmpty()) {
      return new Rejection(Reason.INVALID_SPEC, "spec.targetPodName is required");
    }
    // The API server checks these names too, but a CRD older or laxer than this operator may not
    // have: a name with a '/' would reach another path in the pod requests made with it.
    Optional<Rejection> badName =
        Stream.of(
                invalidName("spec.source.podName", source.getPodName()),
                invalidName("spec.source.snapshotName", source.getSnapshotName()),
                invalidName("spec.targetPodName", spec.getTargetPodName()))
            .flatMap(Optional::stream)
            .findFirst();
    if (badName.isPresent()) {
      return badName.get();
    }
    if (source.getSnapshotName() != null && spec.transportOrDefault() == Transport.Direct) {
      return new Rejection(
          Reason.INVALID_SPEC,
          "a snapshot is restored from storage: use transport Auto or Storage");
    }
    if (spec.getHooks() != null
        && ((spec.getHooks().getPre() != null && !spec.getHooks().getPre().isEmpty())
            || (spec.getHooks().getPost() != null && !spec.getHooks().getPost().isEmpty()))) {
      return new Rejection(
          Reason.INVALID_SPEC, "spec.hooks is not supported by this version of vfio-operator yet");
    }
    for (DeviceMapping mapping :
        spec.getDeviceMap() == null ? List.<DeviceMapping>of() : spec.getDeviceMap()) {
      if (mapping.getSource() == null
          || mapping.getTarget() == null
          || !DEVICE.matcher(mapping.getSource()).matches()
          || !DEVICE.matcher(mapping.getTarget()).matches()) {
        return new Rejection(
            Reason.INVALID_SPEC, "spec.deviceMap entries pair two PCI addresses or mdev UUIDs");
      }
    }
    try {
      Durations.parse("spec.timeout", spec.getTimeout(), Duration.ZERO, Durations.MAX_TIMEOUT);
    } catch (IllegalArgumentException e) {
      return new Rejection(Reason.INVALID_SPEC, e.getMessage());
    }
    return null;
  }

  /** Whether {@code pod} carries {@link #PodAnnotations.RESTORE_TARGET}: "true". */
  static boolean optedIn(Pod pod) {
    Map<String, String> annotations = pod.getMetadata().getAnnotations();
    return annotations != null && "true".equals(annotations.get(PodAnnotations.RESTORE_TARGET));
  }

  private static Optional<Rejection> invalidName(String field, String name) {
    return name == null || (name.length() <= 253 && NAME.matcher(name).matches())
        ? Optional.empty()
        : Optional.of(
            new Rejection(
                Reason.INVALID_SPEC,
                field
                    + " '"
                    + name
                    + "' is not a valid name: lowercase a-z, 0-9, '-' and '.', at most 253 characters"));
  }

  private static DevicePairing.Device device(NodeDevice device) {
    return new DevicePairing.Device(
        device.getAddress(),
        device.getDriver(),
        device.getVendorId(),
        device.getDeviceId(),
        device.getMigrationFlags(),
        device.getFingerprint());
  }

  /** A snapshot's device as it was saved: the fingerprint it had then, if the agent recorded it. */
  private static DevicePairing.Device device(DeviceResult device) {
    return new DevicePairing.Device(
        device.getAddress(),
        device.getDriver(),
        device.getVendorId(),
        device.getDeviceId(),
        device.getMigrationFlags(),
        device.getFingerprint());
  }

  private static Waiting waitForInventory(String node, String pod) {
    return new Waiting(
        new Rejection(
            Reason.WAITING_FOR_INVENTORY,
            "the agent on node "
                + node
                + " has not reported the devices of pod "
                + pod
                + " yet; waiting for its next heartbeat"));
  }

  private static Rejected reject(Reason reason, String message) {
    return new Rejected(new Rejection(reason, message));
  }
}
