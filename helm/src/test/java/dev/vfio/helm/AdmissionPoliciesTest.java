package dev.vfio.helm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.admissionregistration.v1.ValidatingAdmissionPolicy;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.ValidatingAdmissionPolicyBinding;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The admission policies name the identities the chart really gives the components, whatever the
 * release's namespace and ServiceAccount names; each policy is bound and denies. What the policies
 * refuse is proven on a real API server (e2e AdmissionPolicyTest).
 */
class AdmissionPoliciesTest {
  @Test
  void policiesNameTheReleasesOwnServiceAccounts() {
    RenderedChart chart =
        RenderedChart.render(
            command ->
                command
                    .withNamespace("gpu-ops")
                    .set("operator.serviceAccount.name", "ops-identity")
                    .set("agent.serviceAccount.name", "agent-identity"));

    String taskSpecs =
        Serialization.asJson(
            chart.one(ValidatingAdmissionPolicy.class, "vfio-operator-task-specs"));
    assertTrue(taskSpecs.contains("system:serviceaccount:gpu-ops:ops-identity"), taskSpecs);
    String agentNode =
        Serialization.asJson(
            chart.one(ValidatingAdmissionPolicy.class, "vfio-operator-agent-node"));
    assertTrue(agentNode.contains("system:serviceaccount:gpu-ops:agent-identity"), agentNode);
    String operatorPods =
        Serialization.asJson(
            chart.one(ValidatingAdmissionPolicy.class, "vfio-operator-operator-pods"));
    assertTrue(operatorPods.contains("system:serviceaccount:gpu-ops:ops-identity"), operatorPods);
    String operatorNodes =
        Serialization.asJson(
            chart.one(ValidatingAdmissionPolicy.class, "vfio-operator-operator-nodes"));
    assertTrue(operatorNodes.contains("system:serviceaccount:gpu-ops:ops-identity"), operatorNodes);
  }

  @Test
  void everyPolicyIsBoundToDeny() {
    RenderedChart chart = RenderedChart.render();

    List<ValidatingAdmissionPolicy> policies = chart.all(ValidatingAdmissionPolicy.class);
    assertEquals(4, policies.size());
    for (ValidatingAdmissionPolicy policy : policies) {
      assertEquals("Fail", policy.getSpec().getFailurePolicy());
      ValidatingAdmissionPolicyBinding binding =
          chart.one(ValidatingAdmissionPolicyBinding.class, policy.getMetadata().getName());
      assertEquals(policy.getMetadata().getName(), binding.getSpec().getPolicyName());
      assertEquals(List.of("Deny"), binding.getSpec().getValidationActions());
    }
  }
}
