package dev.vfio.operator.preflight;

import dev.vfio.api.v1alpha1.Condition;
import dev.vfio.api.v1alpha1.Conditions;
import dev.vfio.api.v1alpha1.NodeDevice;
import dev.vfio.api.v1alpha1.Reason;
import dev.vfio.api.v1alpha1.VfioNode;
import io.fabric8.kubernetes.api.model.Pod;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.Objects;

/**
 * The checks every operation makes before it sends work to a node: the pod runs there, the node's
 * agent is alive, and what the agent's inventory says the pod holds.
 */
public final class NodeChecks {
  private static final Duration INVENTORY_MARGIN = Duration.ofSeconds(2);
  private final Duration heartbeatTimeout;

  public NodeChecks(Duration heartbeatTimeout) {
    this.heartbeatTimeout = heartbeatTimeout;
  }

  /**
   * Null when {@code pod} exists, is scheduled and runs; otherwise why not. {@code role} is "pod",
   * "source pod"…
   */
  public Rejection runningPod(Pod pod, String role, String namespace, String name) {
    if (pod == null) {
      return new Rejection(
          Reason.POD_NOT_FOUND,
          role
              + " "
              + namespace
              + "/"
              + name
              + " does not exist: create the pod first or fix the name");
    }
    String nodeName = pod.getSpec() == null ? null : pod.getSpec().getNodeName();
    if (nodeName == null || nodeName.isEmpty()) {
      return new Rejection(
          Reason.POD_NOT_SCHEDULED,
          role
              + " "
              + name
              + " is not scheduled to a node yet: wait until it runs, then create the resource again");
    }
    String phase = pod.getStatus() == null ? null : pod.getStatus().getPhase();
    if (!"Running".equals(phase)) {
      return new Rejection(
          Reason.POD_NOT_RUNNING,
          role
              + " "
              + name
              + " is "
              + phase
              + ", not Running: only a running pod's devices hold state");
    }
    return null;
  }

  /** Null when the node's agent reports Ready with a recent heartbeat; otherwise why not. */
  public Rejection agent(VfioNode node, String nodeName, Instant now) {
    if (node == null || node.getStatus() == null) {
      return new Rejection(
          Reason.NO_AGENT,
          "no vfio-operator agent reports for node "
              + nodeName
              + ": check that the node-agent DaemonSet runs there (kubectl get vfionodes)");
    }
    Condition ready = Conditions.find(node.getStatus().getConditions(), Conditions.READY);
    if (ready == null || !Condition.TRUE.equals(ready.getStatus())) {
      return new Rejection(
          Reason.AGENT_NOT_READY,
          "the agent on node "
              + nodeName
              + " is not ready"
              + (ready == null || ready.getMessage() == null ? "" : " (" + ready.getMessage() + ")")
              + ": check its logs (kubectl logs -l app.kubernetes.io/component=node-agent)");
    }
    String heartbeat = node.getStatus().getHeartbeatTime();
    if (heartbeat == null || Instant.parse(heartbeat).plus(heartbeatTimeout).isBefore(now)) {
      return new Rejection(
          Reason.AGENT_NOT_READY,
          "the agent on node "
              + nodeName
              + " has not sent a heartbeat since "
              + heartbeat
              + ": check that it runs");
    }
    return null;
  }

  /**
   * Whether the node's last inventory was taken after the pod existed. An older one cannot show the
   * pod's devices, and refusing on it would fail an operation created right after its pod. The
   * margin covers what the timestamps cannot say: creationTimestamp has whole seconds, and the
   * agent's clock and the API server's differ a little.
   */
  public boolean inventoryCovers(VfioNode node, Pod pod) {
    Instant heartbeat = Instant.parse(node.getStatus().getHeartbeatTime());
    Instant podSince =
        latest(
            pod.getMetadata().getCreationTimestamp(),
            pod.getStatus() == null ? null : pod.getStatus().getStartTime());
    return podSince == null || heartbeat.isAfter(podSince.plus(INVENTORY_MARGIN));
  }

  /** The devices the inventory says the pod's processes hold. */
  public List<NodeDevice> heldBy(VfioNode node, Pod pod) {
    return node.getStatus().getDevices() == null
        ? List.of()
        : node.getStatus().getDevices().stream()
            .filter(
                d ->
                    d.getHolder() != null
                        && Objects.equals(d.getHolder().getUid(), pod.getMetadata().getUid()))
            .toList();
  }

  private static Instant latest(String... times) {
    Instant latest = null;
    for (String time : times) {
      if (time != null) {
        Instant parsed = OffsetDateTime.parse(time).toInstant();
        latest = latest == null || parsed.isAfter(latest) ? parsed : latest;
      }
    }
    return latest;
  }
}
