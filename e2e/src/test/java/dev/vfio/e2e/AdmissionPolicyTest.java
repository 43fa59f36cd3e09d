package dev.vfio.e2e;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vfio.api.v1alpha1.NodeLabels;
import dev.vfio.api.v1alpha1.PodAnnotations;
import dev.vfio.api.v1alpha1.VfioNode;
import dev.vfio.api.v1alpha1.VfioNodeTask;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.api.model.authentication.TokenRequestBuilder;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBindingBuilder;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/**
 * The chart's ValidatingAdmissionPolicies on a real API server: each rule refuses a credential of
 * the wrong identity that RBAC alone would let through, and lets the right one through. The
 * intruder below holds every RBAC grant the components hold, so each refusal is the policy's. No
 * operator or agent process runs here; their credentials are used directly.
 */
class AdmissionPolicyTest {
  private static final String NS = "default";
  private static LocalCluster cluster;
  private static KubernetesClient admin;
  private static KubernetesClient operator;
  private static KubernetesClient agentOfNodeA;
  private static KubernetesClient intruder;

  @BeforeAll
  static void start(@TempDir Path work) throws Exception {
    cluster = LocalCluster.start(work);
    admin = cluster.client();
    operator = cluster.operatorClient();
    agentOfNodeA = cluster.clientAs(cluster.roles().agentToken("node-a"));
    intruder = cluster.clientAs(intruderToken());
    // A new policy takes effect once the API server's policy informer has seen it.
    await("the chart's admission policies in effect")
        .atMost(Duration.ofSeconds(60))
        .until(
            () -> {
              try {
                intruder.resource(task("probe", "node-a")).create();
                intruder.resource(task("probe", "node-a")).delete();
                return false;
              } catch (KubernetesClientException e) {
                return e.getCode() == 403 && e.getMessage().contains("ValidatingAdmissionPolicy");
              }
            });
  }

  @AfterAll
  static void stop() {
    for (KubernetesClient client : new KubernetesClient[] {intruder, agentOfNodeA, operator}) {
      if (client != null) {
        client.close();
      }
    }
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  void onlyTheOperatorCreatesNodeTasks() {
    assertForbidden(
        () -> intruder.resource(task("by-intruder", "node-a")).create(),
        "only the vfio-operator's ServiceAccount (system:serviceaccount:vfio-system:vfio-operator) creates VfioNodeTasks");

    assertEquals(
        "node-a",
        operator.resource(task("by-operator", "node-a")).create().getSpec().getNodeName());
  }

  @Test
  void othersMayUpdateATasksMetadataButNotItsSpecOrLabels() {
    operator.resource(task("kept", "node-a")).create();
    var kept = intruder.resources(VfioNodeTask.class).inNamespace(NS).withName("kept");

    // What the garbage collector or an administrator cleaning up does.
    kept.edit(
        t -> {
          t.getMetadata().getAnnotations().put("example.com/note", "looked at");
          return t;
        });
    assertForbidden(
        () ->
            kept.edit(
                t -> {
                  t.getSpec().setCancelRequested(true);
                  return t;
                }),
        "changes a VfioNodeTask's spec or labels");
    assertForbidden(
        () ->
            kept.edit(
                t -> {
                  t.getMetadata().getLabels().put(VfioNodeTask.PARENT_UID_LABEL, "someone-else");
                  return t;
                }),
        "changes a VfioNodeTask's spec or labels");
  }

  @Test
  void anAgentWritesTheStatusOfItsOwnNodesTasksOnly() {
    operator.resource(task("on-node-a", "node-a")).create();
    operator.resource(task("on-node-b", "node-b")).create();

    taskStatus(agentOfNodeA, "on-node-a", "Running");
    assertForbidden(
        () -> taskStatus(agentOfNodeA, "on-node-b", "Failed"),
        "the node agent of node-a writes only tasks for its own node, not for node-b");
    assertEquals(
        null,
        admin
            .resources(VfioNodeTask.class)
            .inNamespace(NS)
            .withName("on-node-b")
            .get()
            .getStatus());
  }

  @Test
  void anAgentWritesItsOwnVfioNodeOnly() {
    agentOfNodeA.resource(vfioNode("node-a")).create();
    assertForbidden(
        () -> agentOfNodeA.resource(vfioNode("node-b")).create(),
        "the node agent of node-a writes only its own VfioNode, not node-b");

    admin.resource(vfioNode("node-b")).create();
    nodeStatus(agentOfNodeA, "node-a");
    assertForbidden(
        () -> nodeStatus(agentOfNodeA, "node-b"),
        "the node agent of node-a writes only its own VfioNode, not node-b");
  }

  @Test
  void anAgentTokenBoundToNoPodSpeaksForNoNode() {
    try (KubernetesClient unbound = cluster.clientAs(cluster.roles().unboundAgentToken())) {
      assertForbidden(
          () -> unbound.resource(vfioNode("node-c")).create(),
          "the node agent's token must be bound to its pod on a node");
    }
  }

  @Test
  void theOperatorWritesNoPodFieldButTheRestoreStatusAnnotation() {
    cluster.runningPod(NS, "workload", "node-a");
    var pod = operator.pods().inNamespace(NS).withName("workload");

    pod.patch(
        PatchContext.of(PatchType.JSON_MERGE),
        "{\"metadata\":{\"annotations\":{\""
            + PodAnnotations.RESTORE_STATUS
            + "\":\"Restored\"}}}");
    assertEquals(
        "Restored",
        admin
            .pods()
            .inNamespace(NS)
            .withName("workload")
            .get()
            .getMetadata()
            .getAnnotations()
            .get(PodAnnotations.RESTORE_STATUS));

    assertForbidden(
        () ->
            pod.patch(
                PatchContext.of(PatchType.JSON_MERGE),
                "{\"metadata\":{\"annotations\":{\"example.com/owner\":\"operator\"}}}"),
        "writes no pod annotation but vfio.dev/restore-status");
    assertForbidden(
        () ->
            pod.patch(
                PatchContext.of(PatchType.JSON_MERGE),
                "{\"metadata\":{\"labels\":{\"app\":\"hijacked\"}}}"),
        "changes no pod's spec, labels, owners or finalizers");
    assertForbidden(
        () ->
            pod.patch(
                PatchContext.of(PatchType.JSON_MERGE), "{\"spec\":{\"activeDeadlineSeconds\":1}}"),
        "changes no pod's spec, labels, owners or finalizers");
  }

  @Test
  void theOperatorWritesNoNodeFieldButCompatibilityLabels() {
    admin
        .nodes()
        .resource(
            new NodeBuilder()
                .withNewMetadata()
                .withName("node-policy")
                .withLabels(Map.of("topology.kubernetes.io/zone", "a"))
                .endMetadata()
                .withNewSpec()
                .endSpec()
                .build())
        .create();
    var node = operator.nodes().withName("node-policy");
    String label = NodeLabels.compatibility("0123456789abcdef");

    node.patch(
        PatchContext.of(PatchType.JSON_MERGE),
        "{\"metadata\":{\"labels\":{\"" + label + "\":\"true\"}}}");
    assertEquals(
        "true", admin.nodes().withName("node-policy").get().getMetadata().getLabels().get(label));
    node.patch(
        PatchContext.of(PatchType.JSON_MERGE),
        "{\"metadata\":{\"labels\":{\"" + label + "\":null}}}");
    assertFalse(
        admin.nodes().withName("node-policy").get().getMetadata().getLabels().containsKey(label));

    String onlyCompat = "writes no node label but compat.vfio.dev/<key>";
    assertForbidden(
        () ->
            node.patch(
                PatchContext.of(PatchType.JSON_MERGE),
                "{\"metadata\":{\"labels\":{\"topology.kubernetes.io/zone\":\"b\"}}}"),
        onlyCompat);
    assertForbidden(
        () ->
            node.patch(
                PatchContext.of(PatchType.JSON_MERGE),
                "{\"metadata\":{\"labels\":{\"" + label + "\":\"false\"}}}"),
        onlyCompat);
    assertForbidden(
        () ->
            node.patch(
                PatchContext.of(PatchType.JSON_MERGE), "{\"spec\":{\"unschedulable\":true}}"),
        "changes no node's spec, annotations, owners or finalizers");
    assertForbidden(
        () ->
            node.patch(
                PatchContext.of(PatchType.JSON_MERGE),
                "{\"metadata\":{\"annotations\":{\"example.com/owner\":\"operator\"}}}"),
        "changes no node's spec, annotations, owners or finalizers");
  }

  @Test
  void noAgentWritesAPod() {
    cluster.runningPod(NS, "restored", "node-a");

    KubernetesClientException refused =
        assertThrows(
            KubernetesClientException.class,
            () ->
                agentOfNodeA
                    .pods()
                    .inNamespace(NS)
                    .withName("restored")
                    .patch(
                        PatchContext.of(PatchType.JSON_MERGE),
                        "{\"metadata\":{\"annotations\":{\""
                            + PodAnnotations.RESTORE_STATUS
                            + "\":\"Succeeded\"}}}"));

    assertEquals(403, refused.getCode(), refused::getMessage);
    assertTrue(
        refused.getMessage().contains("cannot patch resource \"pods\""), refused::getMessage);
  }

  /** The API server's refusal by an admission policy, with the policy's message. */
  private static void assertForbidden(Executable write, String message) {
    KubernetesClientException refused = assertThrows(KubernetesClientException.class, write);
    assertEquals(403, refused.getCode(), refused::getMessage);
    assertTrue(refused.getMessage().contains("ValidatingAdmissionPolicy"), refused::getMessage);
    assertTrue(refused.getMessage().contains(message), refused::getMessage);
  }

  private static void taskStatus(KubernetesClient as, String task, String phase) {
    // Through an object in hand: by name, the client would first read it, which agents may not.
    as.resource(task(task, "any"))
        .subresource("status")
        .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"status\":{\"phase\":\"" + phase + "\"}}");
  }

  private static void nodeStatus(KubernetesClient as, String node) {
    as.resource(vfioNode(node))
        .subresource("status")
        .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"status\":{\"backend\":\"simulated\"}}");
  }

  private static VfioNodeTask task(String name, String node) {
    VfioNodeTask task =
        Serialization.unmarshal(
            """
        apiVersion: vfio.dev/v1alpha1
        kind: VfioNodeTask
        spec: {operation: DeleteBlobs, storageClaim: vfio-snapshots, blobDirectory: default/gone}
        """,
            VfioNodeTask.class);
    task.setMetadata(
        new ObjectMetaBuilder()
            .withNamespace(NS)
            .withName(name)
            .addToLabels(VfioNodeTask.PARENT_UID_LABEL, "parent")
            .addToAnnotations("example.com/created-by", "test")
            .build());
    task.getSpec().setNodeName(node);
    return task;
  }

  private static VfioNode vfioNode(String name) {
    VfioNode node = new VfioNode();
    node.setMetadata(new ObjectMetaBuilder().withName(name).build());
    return node;
  }

  /**
   * A ServiceAccount granted, cluster-wide, every write the operator and the agents are granted on
   * tasks, nodes and pods: what a careless ClusterRole gives a namespace's workload.
   */
  private static String intruderToken() {
    admin
        .resource(
            new ServiceAccountBuilder()
                .withNewMetadata()
                .withNamespace(NS)
                .withName("intruder")
                .endMetadata()
                .build())
        .create();
    admin
        .resource(
            new ClusterRoleBuilder()
                .withNewMetadata()
                .withName("intruder")
                .endMetadata()
                .addNewRule()
                .withApiGroups("vfio.dev")
                .withResources(
                    "vfionodetasks", "vfionodetasks/status", "vfionodes", "vfionodes/status")
                .withVerbs("get", "create", "update", "patch", "delete")
                .endRule()
                .addNewRule()
                .withApiGroups("")
                .withResources("pods")
                .withVerbs("get", "patch")
                .endRule()
                .build())
        .create();
    admin
        .resource(
            new ClusterRoleBindingBuilder()
                .withNewMetadata()
                .withName("intruder")
                .endMetadata()
                .withNewRoleRef()
                .withApiGroup("rbac.authorization.k8s.io")
                .withKind("ClusterRole")
                .withName("intruder")
                .endRoleRef()
                .addNewSubject()
                .withKind("ServiceAccount")
                .withNamespace(NS)
                .withName("intruder")
                .endSubject()
                .build())
        .create();
    return admin
        .serviceAccounts()
        .inNamespace(NS)
        .withName("intruder")
        .tokenRequest(
            new TokenRequestBuilder().withNewSpec().withExpirationSeconds(3600L).endSpec().build())
        .getStatus()
        .getToken();
  }
}
