package dev.vfio.helm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyIngressRule;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Who may reach the agents' ephemeral stream ports: other agents of the release, nobody else. */
class AgentNetworkPolicyTest {
  @Test
  void onlyTheReleasesAgentsReachTheAgentsAndAnyoneTheHealthPort() {
    RenderedChart chart = RenderedChart.render();
    Map<String, String> agentPods =
        chart.agentDaemonSet().getSpec().getTemplate().getMetadata().getLabels();

    NetworkPolicy policy = chart.one(NetworkPolicy.class, RenderedChart.RELEASE + "-agent");

    Map<String, String> selected = policy.getSpec().getPodSelector().getMatchLabels();
    assertEquals(selected, Map.copyOf(filter(agentPods, selected.keySet())));
    assertEquals(List.of("Ingress"), policy.getSpec().getPolicyTypes());
    List<NetworkPolicyIngressRule> rules = policy.getSpec().getIngress();
    assertEquals(2, rules.size());
    assertEquals(selected, rules.get(0).getFrom().get(0).getPodSelector().getMatchLabels());
    assertEquals(List.of(), rules.get(0).getPorts());
    assertEquals(List.of(), rules.get(1).getFrom());
    int healthPort =
        chart
            .agentDaemonSet()
            .getSpec()
            .getTemplate()
            .getSpec()
            .getContainers()
            .get(0)
            .getPorts()
            .get(0)
            .getContainerPort();
    assertEquals(new IntOrString(healthPort), rules.get(1).getPorts().get(0).getPort());
  }

  @Test
  void theNetworkPolicyCanBeLeftOut() {
    RenderedChart chart =
        RenderedChart.render(c -> c.set("transport.networkPolicy.enabled", "false"));

    assertFalse(chart.has(NetworkPolicy.class, RenderedChart.RELEASE + "-agent"));
  }

  private static Map<String, String> filter(
      Map<String, String> labels, java.util.Set<String> keys) {
    return labels.entrySet().stream()
        .filter(e -> keys.contains(e.getKey()))
        .collect(java.util.stream.Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue));
  }
}
