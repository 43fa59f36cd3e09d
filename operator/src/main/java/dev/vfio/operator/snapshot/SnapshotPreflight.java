package dev.vfio.operator.snapshot;

import dev.vfio.api.v1alpha1.ApiPatterns;
import dev.vfio.api.v1alpha1.Durations;
import dev.vfio.api.v1alpha1.NodeDevice;
import dev.vfio.api.v1alpha1.Reason;
import dev.vfio.api.v1alpha1.StorageClaimStatus;
import dev.vfio.api.v1alpha1.Unrecognized;
import dev.vfio.api.v1alpha1.VfioMigration;
import dev.vfio.api.v1alpha1.VfioNode;
import dev.vfio.api.v1alpha1.VfioSnapshot;
import dev.vfio.api.v1alpha1.VfioSnapshotSpec;
import dev.vfio.operator.config.OperatorConfig;
import dev.vfio.operator.preflight.NodeChecks;
import dev.vfio.operator.preflight.PeerDmaOrder;
import dev.vfio.operator.preflight.Rejection;
import dev.vfio.operator.preflight.StoppedSources;
import io.fabric8.kubernetes.api.model.Pod;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.regex.Pattern;

/**
 * Decides, from what the API server says about the pod and the node's agent, whether a snapshot can
 * start — before anything on the node is touched. Every refusal names the cause and what to do.
 */
public final class SnapshotPreflight {
  private static final Pattern NAME = Pattern.compile(ApiPatterns.DNS_SUBDOMAIN);
  private static final Pattern DEVICE = Pattern.compile(ApiPatterns.DEVICE);

  private final OperatorConfig config;
  private final NodeChecks checks;

  public SnapshotPreflight(OperatorConfig config) {
    this.config = config;
    this.checks = new NodeChecks(config.agentHeartbeatTimeout());
  }

  /** Either a {@link SnapshotPlan} or a {@link Rejection}. */
  public sealed interface Outcome permits Accepted, Rejected, Waiting {}

  public record Accepted(SnapshotPlan plan) implements Outcome {}

  public record Rejected(Rejection rejection) implements Outcome {}

  /** Not decidable yet: the agent's inventory predates the pod. Nothing was touched. */
  public record Waiting(Rejection why) implements Outcome {}

  /** {@code migrations} are all the VfioMigrations, to find a pod a migration left stopped. */
  public Outcome check(
      VfioSnapshot snapshot,
      Function<String, Pod> pods,
      Function<String, VfioNode> nodes,
      Supplier<List<VfioMigration>> migrations,
      Instant now) {
    VfioSnapshotSpec spec = snapshot.getSpec();
    Rejection invalid = validate(spec);
    if (invalid != null) {
      return new Rejected(invalid);
    }
    String podName = spec.getPodName();
    String namespace = snapshot.getMetadata().getNamespace();
    Pod pod = pods.apply(podName);
    Rejection podProblem = checks.runningPod(pod, "pod", namespace, podName);
    if (podProblem != null) {
      return new Rejected(podProblem);
    }
    Rejection stopped = StoppedSources.check(pod, "pod", migrations.get());
    if (stopped != null) {
      return new Rejected(stopped);
    }
    String nodeName = pod.getSpec().getNodeName();
    VfioNode node = nodes.apply(nodeName);
    Rejection agentProblem = checks.agent(node, nodeName, now);
    if (agentProblem != null) {
      return new Rejected(agentProblem);
    }
    if (!checks.inventoryCovers(node, pod)) {
      return new Waiting(
          new Rejection(
              Reason.WAITING_FOR_INVENTORY,
              "the agent on node "
                  + nodeName
                  + " has not reported the devices of pod "
                  + podName
                  + " yet; waiting for its next heartbeat"));
    }
    List<NodeDevice> held = checks.heldBy(node, pod);
    if (held.isEmpty()) {
      return reject(
          Reason.NO_VFIO_DEVICES,
          "pod "
              + podName
              + " holds no VFIO devices on node "
              + nodeName
              + ": snapshot a pod that has VFIO devices assigned");
    }
    List<NodeDevice> selected = new ArrayList<>();
    if (spec.getDevices() == null || spec.getDevices().isEmpty()) {
      selected.addAll(held);
    } else {
      for (String address : spec.getDevices()) {
        NodeDevice device =
            held.stream().filter(d -> d.getAddress().equals(address)).findFirst().orElse(null);
        if (device == null) {
          return reject(
              Reason.DEVICE_NOT_HELD,
              "pod "
                  + podName
                  + " does not hold device "
                  + address
                  + "; it holds "
                  + held.stream().map(NodeDevice::getAddress).toList()
                  + ": fix spec.devices or leave it empty for all");
        }
        selected.add(device);
      }
    }
    for (NodeDevice device : selected) {
      List<String> flags =
          device.getMigrationFlags() == null ? List.of() : device.getMigrationFlags();
      if (!flags.contains("STOP_COPY")) {
        return reject(
            Reason.DEVICE_NOT_MIGRATABLE,
            "device "
                + device.getAddress()
                + " (driver "
                + device.getDriver()
                + ") does not support VFIO migration (no STOP_COPY): bind it to a "
                + "migration-capable variant driver or leave it out of spec.devices");
      }
    }
    Optional<Rejection> unordered = PeerDmaOrder.check(selected);
    if (unordered.isPresent()) {
      return new Rejected(unordered.get());
    }
    String claim =
        spec.getStorageClaim() == null ? config.defaultStorageClaim() : spec.getStorageClaim();
    List<StorageClaimStatus> storage =
        node.getStatus().getStorage() == null ? List.of() : node.getStatus().getStorage();
    if (storage.stream().noneMatch(s -> claim.equals(s.getName()))) {
      return reject(
          Reason.STORAGE_CLAIM_UNKNOWN,
          "storage claim "
              + claim
              + " is not mounted by the agent on "
              + nodeName
              + "; it mounts "
              + storage.stream().map(StorageClaimStatus::getName).toList()
              + ": use one of these or add the claim to the chart's storage.claims");
    }
    Duration timeout = Durations.parse(spec.getTimeout(), config.defaultTimeout());
    return new Accepted(new SnapshotPlan(pod, nodeName, selected, claim, timeout));
  }

  private static Rejection validate(VfioSnapshotSpec spec) {
    // Before any other check: under a newer schema, a field checked below may have given way to one
    // unknown here.
    List<Unrecognized> unknown = spec == null ? List.of() : spec.unrecognized("spec");
    if (!unknown.isEmpty()) {
      return Rejection.unrecognized(unknown);
    }
    if (spec == null || spec.getPodName() == null || spec.getPodName().isEmpty()) {
      return new Rejection(Reason.INVALID_SPEC, "spec.podName is required");
    }
    if (!NAME.matcher(spec.getPodName()).matches() || spec.getPodName().length() > 253) {
      return new Rejection(
          Reason.INVALID_SPEC, "spec.podName '" + spec.getPodName() + "' is not a valid pod name");
    }
    if (spec.getStorageClaim() != null && !NAME.matcher(spec.getStorageClaim()).matches()) {
      return new Rejection(
          Reason.INVALID_SPEC,
          "spec.storageClaim '" + spec.getStorageClaim() + "' is not a valid claim name");
    }
    for (String device : spec.getDevices() == null ? List.<String>of() : spec.getDevices()) {
      if (!DEVICE.matcher(device).matches()) {
        return new Rejection(
            Reason.INVALID_SPEC,
            "spec.devices entry '"
                + device
                + "' is neither a PCI address (0000:65:00.0) nor an mdev UUID");
      }
    }
    if (spec.getHooks() != null
        && (nonEmpty(spec.getHooks().getPre()) || nonEmpty(spec.getHooks().getPost()))) {
      // Refused rather than ignored: a user who asked for a flush hook must not get a snapshot
      // taken without it.
      return new Rejection(
          Reason.INVALID_SPEC,
          "spec.hooks is not supported by this version of "
              + "vfio-operator yet; remove the hooks or quiesce the workload yourself before creating the snapshot");
    }
    try {
      Durations.parse("spec.timeout", spec.getTimeout(), Duration.ZERO, Durations.MAX_TIMEOUT);
      Durations.parse("spec.ttl", spec.getTtl(), Duration.ZERO, Durations.MAX_TTL);
    } catch (IllegalArgumentException e) {
      return new Rejection(Reason.INVALID_SPEC, e.getMessage());
    }
    return null;
  }

  private static boolean nonEmpty(List<?> list) {
    return list != null && !list.isEmpty();
  }

  private static Rejected reject(Reason reason, String message) {
    return new Rejected(new Rejection(reason, message));
  }
}
