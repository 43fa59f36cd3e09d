package dev.vfio.operator.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import java.util.Set;
import org.junit.jupiter.api.Test;

@EnableKubernetesMockClient(crud = true)
class AgentPodsTest {
  KubernetesClient client;

  @Test
  void theAddressesAreThoseOfTheAgentPodsOnTheNodeRunAsTheAgentsServiceAccount() {
    create(pod("agent-a", "vfio-system", "node-a", "vfio-operator-agent", "10.0.0.1"));
    create(pod("agent-b", "vfio-system", "node-b", "vfio-operator-agent", "10.0.0.2"));
    // Labelled like an agent, but not run as the agents' ServiceAccount: anyone who may create
    // pods in the namespace could make one.
    create(pod("lookalike", "vfio-system", "node-a", "default", "10.0.0.66"));
    // An agent's label and account, in another namespace.
    create(pod("elsewhere", "default", "node-a", "vfio-operator-agent", "10.0.0.77"));
    // The agent's replacement on node-b, scheduled but not running yet.
    Pod starting = pod("agent-b2", "vfio-system", "node-b", "vfio-operator-agent", "10.0.0.3");
    starting.getStatus().setPhase("Pending");
    create(starting);

    AgentPods agents = new AgentPods(client, "vfio-system/vfio-operator-agent");

    assertEquals(Set.of("10.0.0.1"), agents.addresses("node-a"));
    assertEquals(Set.of("10.0.0.2"), agents.addresses("node-b"));
    assertEquals(Set.of(), agents.addresses("node-c"));
  }

  private void create(Pod pod) {
    client.pods().inNamespace(pod.getMetadata().getNamespace()).resource(pod).create();
  }

  private static Pod pod(
      String name, String namespace, String node, String account, String address) {
    return new PodBuilder()
        .withNewMetadata()
        .withName(name)
        .withNamespace(namespace)
        .addToLabels(AgentPods.COMPONENT_LABEL, AgentPods.COMPONENT)
        .endMetadata()
        .withNewSpec()
        .withNodeName(node)
        .withServiceAccountName(account)
        .endSpec()
        .withNewStatus()
        .withPhase("Running")
        .withPodIP(address)
        .endStatus()
        .build();
  }
}
