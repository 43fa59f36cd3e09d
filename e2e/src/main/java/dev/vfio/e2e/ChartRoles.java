package dev.vfio.e2e;

import com.marcnuri.helm.Helm;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodIPBuilder;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.PodStatusBuilder;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.ValidatingAdmissionPolicy;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.ValidatingAdmissionPolicyBinding;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.authentication.TokenRequestBuilder;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The identities the Helm chart gives the components, installed as {@code helm install} would: its
 * ServiceAccounts, ClusterRoles, Roles and their bindings and its ValidatingAdmissionPolicies,
 * exactly as the chart renders them. The operator and every agent authenticate with a token of
 * their own ServiceAccount, so a permission the chart lacks fails an end-to-end test with the API
 * server's 403. An agent's token is bound to a pod of the agent's on its node, as the DaemonSet's
 * projected token is, so that the API server knows which node speaks.
 *
 * <p>The settings that must agree with those roles (the transport Secret and the leader election
 * Lease are granted by name and namespace) come from the rendered Deployment as well.
 */
public final class ChartRoles {
  public static final String RELEASE = "vfio-operator";
  public static final String NAMESPACE = "vfio-system";

  /**
   * The operator's settings that RBAC grants by name, so the harness must take them from the chart.
   */
  private static final List<String> NAMED_IN_RBAC =
      List.of(
          "VFIO_TRANSPORT_SECRET",
          "VFIO_BLOB_KEY_SECRET",
          "VFIO_LEADER_ELECTION_NAMESPACE",
          "VFIO_AGENT_SERVICE_ACCOUNT");

  /** Where every agent of the local cluster listens, as its pod's IP. */
  public static final String AGENT_POD_IP = "127.0.0.1";

  private static final Pattern DOCUMENT_SEPARATOR = Pattern.compile("(?m)^---\\s*$");

  /** Long enough for the longest benchmark; the API server signs it, nothing refreshes it. */
  private static final long TOKEN_SECONDS = 24 * 3600;

  private final KubernetesClient admin;
  private final String operatorAccount;
  private final String agentAccount;
  private final Map<String, String> operatorSettings;

  private ChartRoles(
      KubernetesClient admin,
      String operatorAccount,
      String agentAccount,
      Map<String, String> operatorSettings) {
    this.admin = admin;
    this.operatorAccount = operatorAccount;
    this.agentAccount = agentAccount;
    this.operatorSettings = operatorSettings;
  }

  /**
   * Renders the chart with its default values and creates its identities and roles in the cluster.
   */
  public static ChartRoles install(KubernetesClient admin, SourceTree source) {
    String yaml =
        new Helm(source.chart()).template().withName(RELEASE).withNamespace(NAMESPACE).call();
    List<HasMetadata> objects = new ArrayList<>();
    for (String document : DOCUMENT_SEPARATOR.split(yaml)) {
      if (document.lines().anyMatch(line -> line.startsWith("kind:"))) {
        objects.add(Serialization.unmarshal(document));
      }
    }
    admin
        .resource(
            new NamespaceBuilder().withNewMetadata().withName(NAMESPACE).endMetadata().build())
        .serverSideApply();
    for (HasMetadata object : objects) {
      boolean clusterScoped =
          object instanceof ClusterRole
              || object instanceof ClusterRoleBinding
              || object instanceof ValidatingAdmissionPolicy
              || object instanceof ValidatingAdmissionPolicyBinding;
      if (clusterScoped
          || object instanceof ServiceAccount
          || object instanceof Role
          || object instanceof RoleBinding) {
        if (!clusterScoped) {
          object.getMetadata().setNamespace(NAMESPACE);
        }
        admin.resource(object).create();
      }
    }
    PodSpec operator = one(objects, Deployment.class).getSpec().getTemplate().getSpec();
    PodSpec agent = one(objects, DaemonSet.class).getSpec().getTemplate().getSpec();
    Map<String, String> settings = new HashMap<>();
    for (EnvVar variable : operator.getContainers().get(0).getEnv()) {
      if (NAMED_IN_RBAC.contains(variable.getName())) {
        settings.put(
            variable.getName(),
            variable.getValue() != null
                ? variable.getValue()
                : downwardApi(variable.getValueFrom().getFieldRef().getFieldPath()));
      }
    }
    return new ChartRoles(
        admin,
        operator.getServiceAccountName(),
        agent.getServiceAccountName(),
        Map.copyOf(settings));
  }

  /** A token of the operator's ServiceAccount. */
  public String operatorToken() {
    return token(operatorAccount);
  }

  /**
   * A token of the agents' ServiceAccount bound to a pod of the agent's on {@code node}: the API
   * server names the node in the token, which the chart's admission policies hold the agent to. The
   * pod never runs (there is no kubelet); it stands for the DaemonSet's pod on that node, and its
   * status says what a kubelet would: Running at {@link #AGENT_POD_IP}, where the agent process
   * listens, which the operator checks a Receive's advertised endpoint against.
   */
  public String agentToken(String node) {
    return agentToken(node, AGENT_POD_IP);
  }

  /** {@link #agentToken(String)} for an agent pod at {@code podIp}, where its agent listens. */
  public String agentToken(String node, String podIp) {
    Pod pod =
        admin
            .pods()
            .inNamespace(NAMESPACE)
            .resource(
                new PodBuilder()
                    .withNewMetadata()
                    .withGenerateName("vfio-node-agent-")
                    .addToLabels("app.kubernetes.io/component", "node-agent")
                    .endMetadata()
                    .withNewSpec()
                    .withNodeName(node)
                    .withServiceAccountName(agentAccount)
                    .addNewContainer()
                    .withName("agent")
                    .withImage("vfio-node-agent")
                    .endContainer()
                    .endSpec()
                    .build())
            .create();
    pod.setStatus(
        new PodStatusBuilder()
            .withPhase("Running")
            .withPodIP(podIp)
            .withPodIPs(new PodIPBuilder().withIp(podIp).build())
            .build());
    pod = admin.pods().inNamespace(NAMESPACE).resource(pod).updateStatus();
    return admin
        .serviceAccounts()
        .inNamespace(NAMESPACE)
        .withName(agentAccount)
        .tokenRequest(
            new TokenRequestBuilder()
                .withNewSpec()
                .withExpirationSeconds(TOKEN_SECONDS)
                .withNewBoundObjectRef()
                .withApiVersion("v1")
                .withKind("Pod")
                .withName(pod.getMetadata().getName())
                .withUid(pod.getMetadata().getUid())
                .endBoundObjectRef()
                .endSpec()
                .build())
        .getStatus()
        .getToken();
  }

  /** A token of the agents' ServiceAccount bound to no pod, so naming no node. */
  public String unboundAgentToken() {
    return token(agentAccount);
  }

  /**
   * The operator's settings whose values its roles grant by name (transport Secret, Lease
   * namespace).
   */
  public Map<String, String> operatorSettings() {
    return operatorSettings;
  }

  private String token(String account) {
    return admin
        .serviceAccounts()
        .inNamespace(NAMESPACE)
        .withName(account)
        .tokenRequest(
            new TokenRequestBuilder()
                .withNewSpec()
                .withExpirationSeconds(TOKEN_SECONDS)
                .endSpec()
                .build())
        .getStatus()
        .getToken();
  }

  private static String downwardApi(String field) {
    if (field.equals("metadata.namespace")) {
      return NAMESPACE;
    }
    throw new IllegalStateException(
        "the operator's chart settings refer to " + field + ", which the harness does not resolve");
  }

  private static <T extends HasMetadata> T one(List<HasMetadata> objects, Class<T> kind) {
    List<T> found = objects.stream().filter(kind::isInstance).map(kind::cast).toList();
    if (found.size() != 1) {
      throw new IllegalStateException(
          "the chart renders " + found.size() + " " + kind.getSimpleName() + "s, not one");
    }
    return found.get(0);
  }
}
