package dev.vfio.operator.snapshot;

import dev.vfio.api.v1alpha1.ApiPatterns;
import dev.vfio.api.v1alpha1.Condition;
import dev.vfio.api.v1alpha1.Conditions;
import dev.vfio.api.v1alpha1.Durations;
import dev.vfio.api.v1alpha1.NodeDevice;
import dev.vfio.api.v1alpha1.Reasons;
import dev.vfio.api.v1alpha1.StorageClaimStatus;
import dev.vfio.api.v1alpha1.VfioNode;
import dev.vfio.api.v1alpha1.VfioSnapshot;
import dev.vfio.api.v1alpha1.VfioSnapshotSpec;
import dev.vfio.operator.config.OperatorConfig;
import io.fabric8.kubernetes.api.model.Pod;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * Decides, from what the API server says about the pod and the node's agent, whether a snapshot
 * can start — before anything on the node is touched. Every refusal names the cause and what to do.
 */
public final class SnapshotPreflight {
  private static final Pattern NAME = Pattern.compile(ApiPatterns.DNS_SUBDOMAIN);
  private static final Pattern DEVICE = Pattern.compile(ApiPatterns.DEVICE);

  private final OperatorConfig config;

  public SnapshotPreflight(OperatorConfig config) {
    this.config = config;
  }

  /** Either a {@link SnapshotPlan} or a {@link Rejection}. */
  public sealed interface Outcome permits Accepted, Rejected, Waiting {}

  public record Accepted(SnapshotPlan plan) implements Outcome {}

  public record Rejected(Rejection rejection) implements Outcome {}

  /** Not decidable yet: the agent's inventory predates the pod. Nothing was touched. */
  public record Waiting(Rejection why) implements Outcome {}

  public Outcome check(VfioSnapshot snapshot, Function<String, Pod> pods,
      Function<String, VfioNode> nodes, Instant now) {
    VfioSnapshotSpec spec = snapshot.getSpec();
    Rejection invalid = validate(spec);
    if (invalid != null) {
      return new Rejected(invalid);
    }
    String podName = spec.getPodName();
    String namespace = snapshot.getMetadata().getNamespace();
    Pod pod = pods.apply(podName);
    if (pod == null) {
      return reject(Reasons.POD_NOT_FOUND, "pod " + namespace + "/" + podName
          + " does not exist: create the pod first or fix spec.podName");
    }
    String nodeName = pod.getSpec() == null ? null : pod.getSpec().getNodeName();
    if (nodeName == null || nodeName.isEmpty()) {
      return reject(Reasons.POD_NOT_SCHEDULED, "pod " + podName
          + " is not scheduled to a node yet: wait until it runs, then create the snapshot again");
    }
    String podPhase = pod.getStatus() == null ? null : pod.getStatus().getPhase();
    if (!"Running".equals(podPhase)) {
      return reject(Reasons.POD_NOT_RUNNING, "pod " + podName + " is " + podPhase
          + ", not Running: only a running pod's devices hold state to save");
    }
    VfioNode node = nodes.apply(nodeName);
    if (node == null || node.getStatus() == null) {
      return reject(Reasons.NO_AGENT, "no vfio-operator agent reports for node " + nodeName
          + ": check that the node-agent DaemonSet runs there (kubectl get vfionodes)");
    }
    Rejection notReady = agentReadiness(node, now);
    if (notReady != null) {
      return new Rejected(notReady);
    }
    List<NodeDevice> held = node.getStatus().getDevices() == null ? List.of()
        : node.getStatus().getDevices().stream()
            .filter(d -> d.getHolder() != null
                && Objects.equals(d.getHolder().getUid(), pod.getMetadata().getUid()))
            .toList();
    if (!inventoryCovers(node, pod)) {
      return new Waiting(new Rejection(Reasons.WAITING_FOR_INVENTORY, "the agent on node " + nodeName
          + " has not reported the devices of pod " + podName + " yet; waiting for its next heartbeat"));
    }
    if (held.isEmpty()) {
      return reject(Reasons.NO_VFIO_DEVICES, "pod " + podName + " holds no VFIO devices on node "
          + nodeName + ": snapshot a pod that has VFIO devices assigned");
    }
    List<NodeDevice> selected = new ArrayList<>();
    if (spec.getDevices() == null || spec.getDevices().isEmpty()) {
      selected.addAll(held);
    } else {
      for (String address : spec.getDevices()) {
        NodeDevice device = held.stream().filter(d -> d.getAddress().equals(address)).findFirst().orElse(null);
        if (device == null) {
          return reject(Reasons.DEVICE_NOT_HELD, "pod " + podName + " does not hold device " + address
              + "; it holds " + held.stream().map(NodeDevice::getAddress).toList()
              + ": fix spec.devices or leave it empty for all");
        }
        selected.add(device);
      }
    }
    for (NodeDevice device : selected) {
      List<String> flags = device.getMigrationFlags() == null ? List.of() : device.getMigrationFlags();
      if (!flags.contains("STOP_COPY")) {
        return reject(Reasons.DEVICE_NOT_MIGRATABLE, "device " + device.getAddress() + " (driver "
            + device.getDriver() + ") does not support VFIO migration (no STOP_COPY): bind it to a "
            + "migration-capable variant driver or leave it out of spec.devices");
      }
    }
    String claim = spec.getStorageClaim() == null ? config.defaultStorageClaim() : spec.getStorageClaim();
    List<StorageClaimStatus> storage = node.getStatus().getStorage() == null ? List.of() : node.getStatus().getStorage();
    if (storage.stream().noneMatch(s -> claim.equals(s.getName()))) {
      return reject(Reasons.STORAGE_CLAIM_UNKNOWN, "storage claim " + claim + " is not mounted by the agent on "
          + nodeName + "; it mounts " + storage.stream().map(StorageClaimStatus::getName).toList()
          + ": use one of these or add the claim to the chart's storage.claims");
    }
    Duration timeout = Durations.parse(spec.getTimeout(), config.defaultTimeout());
    return new Accepted(new SnapshotPlan(pod, nodeName, selected, claim, timeout));
  }

  /** The agent must report Ready and have sent a heartbeat recently. */
  public Rejection agentReadiness(VfioNode node, Instant now) {
    Condition ready = Conditions.find(node.getStatus().getConditions(), Conditions.READY);
    String nodeName = node.getMetadata().getName();
    if (ready == null || !Condition.TRUE.equals(ready.getStatus())) {
      return new Rejection(Reasons.AGENT_NOT_READY, "the agent on node " + nodeName + " is not ready"
          + (ready == null || ready.getMessage() == null ? "" : " (" + ready.getMessage() + ")")
          + ": check its logs (kubectl logs -l app.kubernetes.io/component=node-agent)");
    }
    String heartbeat = node.getStatus().getHeartbeatTime();
    if (heartbeat == null
        || Instant.parse(heartbeat).plus(config.agentHeartbeatTimeout()).isBefore(now)) {
      return new Rejection(Reasons.AGENT_NOT_READY, "the agent on node " + nodeName
          + " has not sent a heartbeat since " + heartbeat + ": check that it runs");
    }
    return null;
  }

  /**
   * Whether the node's last inventory was taken after the pod existed. An older one cannot
   * show the pod's devices, and refusing on it would fail a snapshot created right after its pod.
   */
  private static boolean inventoryCovers(VfioNode node, Pod pod) {
    Instant heartbeat = Instant.parse(node.getStatus().getHeartbeatTime());
    Instant podSince = latest(pod.getMetadata().getCreationTimestamp(),
        pod.getStatus() == null ? null : pod.getStatus().getStartTime());
    return podSince == null || heartbeat.isAfter(podSince);
  }

  private static Instant latest(String... times) {
    Instant latest = null;
    for (String time : times) {
      if (time != null) {
        Instant parsed = java.time.OffsetDateTime.parse(time).toInstant();
        latest = latest == null || parsed.isAfter(latest) ? parsed : latest;
      }
    }
    return latest;
  }

  private static Rejection validate(VfioSnapshotSpec spec) {
    if (spec == null || spec.getPodName() == null || spec.getPodName().isEmpty()) {
      return new Rejection(Reasons.INVALID_SPEC, "spec.podName is required");
    }
    if (!NAME.matcher(spec.getPodName()).matches() || spec.getPodName().length() > 253) {
      return new Rejection(Reasons.INVALID_SPEC, "spec.podName '" + spec.getPodName() + "' is not a valid pod name");
    }
    if (spec.getStorageClaim() != null && !NAME.matcher(spec.getStorageClaim()).matches()) {
      return new Rejection(Reasons.INVALID_SPEC, "spec.storageClaim '" + spec.getStorageClaim() + "' is not a valid claim name");
    }
    for (String device : spec.getDevices() == null ? List.<String>of() : spec.getDevices()) {
      if (!DEVICE.matcher(device).matches()) {
        return new Rejection(Reasons.INVALID_SPEC, "spec.devices entry '" + device
            + "' is neither a PCI address (0000:65:00.0) nor an mdev UUID");
      }
    }
    if (spec.getHooks() != null
        && (nonEmpty(spec.getHooks().getPre()) || nonEmpty(spec.getHooks().getPost()))) {
      // Refused rather than ignored: a user who asked for a flush hook must not get a snapshot taken without it.
      return new Rejection(Reasons.INVALID_SPEC, "spec.hooks is not supported by this version of "
          + "vfio-operator yet; remove the hooks or quiesce the workload yourself before creating the snapshot");
    }
    for (String duration : new String[] {spec.getTimeout(), spec.getTtl()}) {
      try {
        Durations.parse(duration, Duration.ZERO);
      } catch (IllegalArgumentException e) {
        return new Rejection(Reasons.INVALID_SPEC, e.getMessage());
      }
    }
    return null;
  }

  private static boolean nonEmpty(List<?> list) {
    return list != null && !list.isEmpty();
  }

  private static Rejected reject(String reason, String message) {
    return new Rejected(new Rejection(reason, message));
  }
}
