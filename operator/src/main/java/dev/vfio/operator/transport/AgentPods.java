package dev.vfio.operator.transport;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodStatus;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Where the node agents are: the IPs of the chart's agent pods, running on a node as the agents'
 * ServiceAccount. A Receive task advertises its endpoint in its status, which its agent writes; the
 * operator hands it to the Send only if it is the IP of an agent pod on the Receive's node, so a
 * status written by anyone else cannot redirect a migration.
 */
public final class AgentPods {
  /** The label the chart's DaemonSet puts on every agent pod. */
  static final String COMPONENT_LABEL = "app.kubernetes.io/component";

  static final String COMPONENT = "node-agent";

  private final KubernetesClient client;
  private final String namespace;
  private final String serviceAccount;

  /**
   * @param agentServiceAccount {@code <namespace>/<name>} of the agents' ServiceAccount; the agent
   *     pods run in that namespace
   */
  public AgentPods(KubernetesClient client, String agentServiceAccount) {
    String[] account = agentServiceAccount.split("/", 2);
    this.client = client;
    this.namespace = account[0];
    this.serviceAccount = account.length == 2 ? account[1] : "";
  }

  /** The IPs of the running agent pods on {@code node}; empty when it has none. */
  public Set<String> addresses(String node) {
    // The DaemonSet's pods, one per node, filtered here: a field selector on spec.nodeName would
    // save little and is one more thing a test double must understand.
    return client
        .pods()
        .inNamespace(namespace)
        .withLabel(COMPONENT_LABEL, COMPONENT)
        .list()
        .getItems()
        .stream()
        .filter(pod -> node.equals(pod.getSpec().getNodeName()))
        .filter(pod -> serviceAccount.equals(pod.getSpec().getServiceAccountName()))
        .filter(pod -> pod.getMetadata().getDeletionTimestamp() == null)
        .map(Pod::getStatus)
        .filter(status -> status != null && "Running".equals(status.getPhase()))
        .map(PodStatus::getPodIP)
        .filter(Objects::nonNull)
        .collect(Collectors.toUnmodifiableSet());
  }
}
