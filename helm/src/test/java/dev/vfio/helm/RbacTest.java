package dev.vfio.helm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.api.model.rbac.RoleRef;
import io.fabric8.kubernetes.api.model.rbac.Subject;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * Least privilege: each component's rules are exactly the API calls its code makes, listed here
 * with the code that makes them. A new call in the code needs a new line here and in the chart; a
 * rule the code no longer needs fails this test until it is removed from the chart.
 */
class RbacTest {
  /** One permission: a verb on a resource of an API group, optionally on one named object only. */
  record Permission(String apiGroup, String resource, String verb, String resourceName)
      implements Comparable<Permission> {
    static Permission of(String apiGroup, String resource, String verb) {
      return new Permission(apiGroup, resource, verb, "");
    }

    @Override
    public int compareTo(Permission other) {
      return toString().compareTo(other.toString());
    }
  }

  private static final String VFIO = "vfio.dev";
  private static final String CORE = "";
  private static final String COORDINATION = "coordination.k8s.io";
  private static final String CERTIFICATES = "certificates.k8s.io";

  /** The operator, cluster-wide. Code in operator/src/main/java/dev/vfio/operator/. */
  private static final Set<Permission> OPERATOR =
      Set.of(
          // JOSDK's informer on the primary resource of VfioSnapshotReconciler.
          Permission.of(VFIO, "vfiosnapshots", "list"),
          Permission.of(VFIO, "vfiosnapshots", "watch"),
          // JOSDK ReconciliationDispatcher.CustomResourceFacade.getResource, re-reading after a
          // conflict.
          Permission.of(VFIO, "vfiosnapshots", "get"),
          // JOSDK adds and removes the Cleaner's finalizer with Resource.edit (a JSON patch), since
          // VfioOperator sets useSSAToPatchPrimaryResource(false).
          Permission.of(VFIO, "vfiosnapshots", "patch"),
          // VfioSnapshotReconciler.expireAfterTtl: client.resource(snapshot).delete(); and
          // schedule.VfioSnapshotScheduleReconciler: its retention, and cleanup with Delete.
          Permission.of(VFIO, "vfiosnapshots", "delete"),
          // schedule.VfioSnapshotScheduleReconciler.create: a schedule's snapshot of each run.
          Permission.of(VFIO, "vfiosnapshots", "create"),
          // schedule.VfioSnapshotScheduleReconciler: JOSDK's informer and finalizer patches on its
          // primary resource, its StatusWriter; the finalizers update as for the other kinds.
          Permission.of(VFIO, "vfiosnapshotschedules", "list"),
          Permission.of(VFIO, "vfiosnapshotschedules", "watch"),
          Permission.of(VFIO, "vfiosnapshotschedules", "get"),
          Permission.of(VFIO, "vfiosnapshotschedules", "patch"),
          Permission.of(VFIO, "vfiosnapshotschedules/status", "patch"),
          Permission.of(VFIO, "vfiosnapshotschedules/finalizers", "update"),
          // (migration.VfioMigrationReconciler.start reads the snapshot to restore: get, above.)
          // status.StatusWriter.write: subresource("status").patch(JSON).
          Permission.of(VFIO, "vfiosnapshots/status", "patch"),
          // NodeTasks.create: an owner reference with blockOwnerDeletion=true needs update on the
          // owner's finalizers where OwnerReferencesPermissionEnforcement is enabled.
          Permission.of(VFIO, "vfiosnapshots/finalizers", "update"),
          // migration.VfioMigrationReconciler: the same JOSDK calls on its primary resource, and
          // its
          // own StatusWriter and NodeTasks calls; no delete (migrations have no ttl).
          Permission.of(VFIO, "vfiomigrations", "list"),
          Permission.of(VFIO, "vfiomigrations", "watch"),
          Permission.of(VFIO, "vfiomigrations", "get"),
          Permission.of(VFIO, "vfiomigrations", "patch"),
          Permission.of(VFIO, "vfiomigrations/status", "patch"),
          Permission.of(VFIO, "vfiomigrations/finalizers", "update"),
          // NodeTasks.create: client.resource(task).create().
          Permission.of(VFIO, "vfionodetasks", "create"),
          // NodeTasks.create after a 409 (tasks are otherwise read from the informer only).
          Permission.of(VFIO, "vfionodetasks", "get"),
          // tasks.TaskInformer: each reconciler's InformerEventSource on VfioNodeTask.
          Permission.of(VFIO, "vfionodetasks", "list"),
          Permission.of(VFIO, "vfionodetasks", "watch"),
          // NodeTasks.cancel: JSON merge patch of spec.cancelRequested.
          Permission.of(VFIO, "vfionodetasks", "patch"),
          // NodeTasks.delete.
          Permission.of(VFIO, "vfionodetasks", "delete"),
          // preflight.AgentNodes.get when its informer has not seen the node yet:
          // withName(node).get()
          // on VfioNodes.
          Permission.of(VFIO, "vfionodes", "get"),
          // preflight.AgentNodes: each reconciler's InformerEventSource on VfioNode.
          Permission.of(VFIO, "vfionodes", "list"),
          Permission.of(VFIO, "vfionodes", "watch"),
          // VfioSnapshotReconciler.start, VfioMigrationReconciler.start, migration.FlowSteps (the
          // watchdog, a Send's source), migration.RestoreStatusMarker:
          // client.pods().inNamespace(ns).withName(pod).get().
          Permission.of(CORE, "pods", "get"),
          // migration.RestoreStatusMarker.mark: JSON merge patch of vfio.dev/restore-status on the
          // target pod.
          Permission.of(CORE, "pods", "patch"),
          // labels.NodeLabelReconciler: client.nodes().withName(node).get(), then a JSON merge
          // patch of its compat.vfio.dev/ labels.
          Permission.of(CORE, "nodes", "get"),
          Permission.of(CORE, "nodes", "patch"),
          // EventRecorder.record: create; a repeat (409) is read and its count updated.
          Permission.of(CORE, "events", "create"),
          Permission.of(CORE, "events", "get"),
          Permission.of(CORE, "events", "update"),
          // transport.TransportSigner: inform on the requests of signer vfio.dev/transport, read
          // one again before deciding it, approve or deny it, write its certificate.
          Permission.of(CERTIFICATES, "certificatesigningrequests", "get"),
          Permission.of(CERTIFICATES, "certificatesigningrequests", "list"),
          Permission.of(CERTIFICATES, "certificatesigningrequests", "watch"),
          Permission.of(CERTIFICATES, "certificatesigningrequests/approval", "update"),
          Permission.of(CERTIFICATES, "certificatesigningrequests/status", "update"),
          // The API server's own check for a custom signer: only these approve and sign for it.
          new Permission(CERTIFICATES, "signers", "approve", "vfio.dev/transport"),
          new Permission(CERTIFICATES, "signers", "sign", "vfio.dev/transport"));

  /**
   * The operator's leader election, in the release namespace: VfioOperator's
   * LeaderElectionConfiguration("vfio-operator", namespace). Fabric8's LeaseLock gets, creates and
   * patches the Lease; JOSDK's LeaderElectionManager.checkLeaseAccess demands create, update and
   * get.
   */
  private static final Set<Permission> LEADER_ELECTION =
      Set.of(
          Permission.of(COORDINATION, "leases", "create"),
          new Permission(COORDINATION, "leases", "get", "vfio-operator"),
          new Permission(COORDINATION, "leases", "update", "vfio-operator"),
          new Permission(COORDINATION, "leases", "patch", "vfio-operator"));

  /**
   * The operator's transport CA, in the release namespace: transport.TransportCa.ensure gets the
   * Secret named by VFIO_TRANSPORT_SECRET, creates it when missing or replaces an older release's,
   * and does the same with the ConfigMap of that name; transport.AgentPods lists the agent pods.
   */
  private static final Set<Permission> OPERATOR_TRANSPORT =
      Set.of(
          Permission.of(CORE, "secrets", "create"),
          new Permission(CORE, "secrets", "get", "vfio-operator-transport"),
          new Permission(CORE, "secrets", "update", "vfio-operator-transport"),
          Permission.of(CORE, "configmaps", "create"),
          new Permission(CORE, "configmaps", "get", "vfio-operator-transport"),
          new Permission(CORE, "configmaps", "update", "vfio-operator-transport"),
          Permission.of(CORE, "pods", "list"));

  /**
   * The blob key, in the release namespace: blobkey.BlobKeySecret.ensure gets the Secret named by
   * VFIO_BLOB_KEY_SECRET and creates it when missing; blobkey.BlobKeyRotation watches that one
   * Secret and updates it to rotate. Agents get no role: the kubelet mounts it.
   */
  private static final Set<Permission> OPERATOR_BLOB_KEY =
      Set.of(
          Permission.of(CORE, "secrets", "create"),
          new Permission(CORE, "secrets", "get", "vfio-operator-blob-key"),
          new Permission(CORE, "secrets", "list", "vfio-operator-blob-key"),
          new Permission(CORE, "secrets", "watch", "vfio-operator-blob-key"),
          new Permission(CORE, "secrets", "update", "vfio-operator-blob-key"));

  /** The stream CA's certificate: transport.SigningRequests reads that one ConfigMap. */
  private static final Set<Permission> AGENT_TRANSPORT =
      Set.of(new Permission(CORE, "configmaps", "get", "vfio-operator-transport"));

  /** The node agent, cluster-wide. Code in node-agent/src/main/java/dev/vfio/agent/. */
  private static final Set<Permission> AGENT =
      Set.of(
          // tasks.TaskWorker.start: inform on VfioNodeTasks with spec.nodeName=<node> (a field
          // selector), all namespaces.
          Permission.of(VFIO, "vfionodetasks", "list"),
          Permission.of(VFIO, "vfionodetasks", "watch"),
          // (journal.InterruptedTasks.fail lists them too, after a restart.)
          // tasks.TaskStatusWriter: claim and status, subresource("status").patch(JSON).
          Permission.of(VFIO, "vfionodetasks/status", "patch"),
          // inventory.NodePublisher.write: create when the status patch finds no VfioNode.
          Permission.of(VFIO, "vfionodes", "create"),
          // inventory.NodePublisher: status and conditions, subresource("status").patch(JSON).
          Permission.of(VFIO, "vfionodes/status", "patch"),
          // pods.NodePods.find, when its watch has not seen the task's pod: withName(pod).get().
          Permission.of(CORE, "pods", "get"),
          // pods.NodePods: inform on this node's pods (a field selector), which NodePublisher
          // reports
          // holders from and NodeAgent republishes the VfioNode on.
          Permission.of(CORE, "pods", "list"),
          Permission.of(CORE, "pods", "watch"),
          // transport.SigningRequests: its transport certificate request, read back by name.
          Permission.of(CERTIFICATES, "certificatesigningrequests", "create"),
          Permission.of(CERTIFICATES, "certificatesigningrequests", "get"));

  /**
   * What the built-in {@code view} role gains, so a namespace's viewers see its snapshots and
   * migrations (status included) as they see its pods.
   */
  private static final Set<Permission> NAMESPACE_VIEW =
      Set.of(
          Permission.of(VFIO, "vfiosnapshots", "get"),
          Permission.of(VFIO, "vfiosnapshots", "list"),
          Permission.of(VFIO, "vfiosnapshots", "watch"),
          Permission.of(VFIO, "vfiomigrations", "get"),
          Permission.of(VFIO, "vfiomigrations", "list"),
          Permission.of(VFIO, "vfiomigrations", "watch"),
          Permission.of(VFIO, "vfiosnapshotschedules", "get"),
          Permission.of(VFIO, "vfiosnapshotschedules", "list"),
          Permission.of(VFIO, "vfiosnapshotschedules", "watch"));

  /**
   * What the built-in {@code edit} and {@code admin} roles gain: a snapshot freezes a pod and
   * copies its device memory, as strong as {@code pods/exec}, which these roles already hold. No
   * status, no VfioNodeTask: only the operator writes those.
   */
  private static final Set<Permission> NAMESPACE_EDIT =
      Set.of(
          Permission.of(VFIO, "vfiosnapshots", "get"),
          Permission.of(VFIO, "vfiosnapshots", "list"),
          Permission.of(VFIO, "vfiosnapshots", "watch"),
          Permission.of(VFIO, "vfiosnapshots", "create"),
          Permission.of(VFIO, "vfiosnapshots", "update"),
          Permission.of(VFIO, "vfiosnapshots", "patch"),
          Permission.of(VFIO, "vfiosnapshots", "delete"),
          Permission.of(VFIO, "vfiosnapshots", "deletecollection"),
          Permission.of(VFIO, "vfiomigrations", "get"),
          Permission.of(VFIO, "vfiomigrations", "list"),
          Permission.of(VFIO, "vfiomigrations", "watch"),
          Permission.of(VFIO, "vfiomigrations", "create"),
          Permission.of(VFIO, "vfiomigrations", "update"),
          Permission.of(VFIO, "vfiomigrations", "patch"),
          Permission.of(VFIO, "vfiomigrations", "delete"),
          Permission.of(VFIO, "vfiomigrations", "deletecollection"),
          Permission.of(VFIO, "vfiosnapshotschedules", "get"),
          Permission.of(VFIO, "vfiosnapshotschedules", "list"),
          Permission.of(VFIO, "vfiosnapshotschedules", "watch"),
          Permission.of(VFIO, "vfiosnapshotschedules", "create"),
          Permission.of(VFIO, "vfiosnapshotschedules", "update"),
          Permission.of(VFIO, "vfiosnapshotschedules", "patch"),
          Permission.of(VFIO, "vfiosnapshotschedules", "delete"),
          Permission.of(VFIO, "vfiosnapshotschedules", "deletecollection"));

  private final RenderedChart chart = RenderedChart.render();

  @Test
  void operatorClusterRoleGrantsExactlyTheCallsTheOperatorMakes() {
    ClusterRole role = chart.one(ClusterRole.class, "vfio-operator-operator");
    assertEquals(new TreeSet<>(OPERATOR), permissions(role.getRules()));
  }

  @Test
  void leaderElectionRoleGrantsOnlyTheOperatorsLeaseInItsOwnNamespace() {
    Role role = chart.one(Role.class, "vfio-operator-leader-election");
    assertEquals(RenderedChart.NAMESPACE, role.getMetadata().getNamespace());
    assertEquals(new TreeSet<>(LEADER_ELECTION), permissions(role.getRules()));
  }

  @Test
  void agentClusterRoleGrantsExactlyTheCallsTheAgentMakes() {
    ClusterRole role = chart.one(ClusterRole.class, "vfio-operator-agent");
    assertEquals(new TreeSet<>(AGENT), permissions(role.getRules()));
  }

  @Test
  void transportRolesGrantTheOneSecretToTheOperatorAndItsConfigMapToTheAgents() {
    Role operator = chart.one(Role.class, "vfio-operator-transport");
    Role agent = chart.one(Role.class, "vfio-operator-agent-transport");
    assertEquals(RenderedChart.NAMESPACE, operator.getMetadata().getNamespace());
    assertEquals(RenderedChart.NAMESPACE, agent.getMetadata().getNamespace());
    assertEquals(new TreeSet<>(OPERATOR_TRANSPORT), permissions(operator.getRules()));
    assertEquals(new TreeSet<>(AGENT_TRANSPORT), permissions(agent.getRules()));
  }

  @Test
  void onlyTheOperatorMayReadTheBlobKeyAndOnlyInTheReleaseNamespace() {
    Role operator = chart.one(Role.class, "vfio-operator-blob-key");
    assertEquals(RenderedChart.NAMESPACE, operator.getMetadata().getNamespace());
    assertEquals(new TreeSet<>(OPERATOR_BLOB_KEY), permissions(operator.getRules()));
    for (Role role : chart.all(Role.class)) {
      if (!role.getMetadata().getName().equals("vfio-operator-blob-key")) {
        assertFalse(
            permissions(role.getRules()).stream()
                .anyMatch(p -> "vfio-operator-blob-key".equals(p.resourceName())),
            role.getMetadata().getName());
      }
    }
  }

  @Test
  void aTransportSecretOfOnesOwnIsTheOneTheOperatorReadsAndItsConfigMapTheAgents() {
    RenderedChart own =
        RenderedChart.render(c -> c.set("transport.secretName", "vfio-streams-tls"));

    assertTrue(
        permissions(own.one(Role.class, "vfio-operator-transport").getRules())
            .contains(new Permission(CORE, "secrets", "get", "vfio-streams-tls")));
    assertEquals(
        new TreeSet<>(Set.of(new Permission(CORE, "configmaps", "get", "vfio-streams-tls"))),
        permissions(own.one(Role.class, "vfio-operator-agent-transport").getRules()));
  }

  @Test
  void noAgentRoleReadsASecretOrSignsACertificate() {
    List<PolicyRule> rules = new ArrayList<>();
    rules.addAll(chart.one(ClusterRole.class, "vfio-operator-agent").getRules());
    rules.addAll(chart.one(Role.class, "vfio-operator-agent-transport").getRules());
    for (Permission permission : permissions(rules)) {
      assertNotEquals("secrets", permission.resource(), permission::toString);
      assertFalse(
          permission.resource().startsWith("certificatesigningrequests/"), permission::toString);
      assertNotEquals("signers", permission.resource(), permission::toString);
    }
  }

  @Test
  void namespaceViewersReadSnapshotsAndMigrations() {
    ClusterRole view = chart.one(ClusterRole.class, "vfio-operator-view");
    assertEquals(
        Map.of("rbac.authorization.k8s.io/aggregate-to-view", "true"), aggregationLabels(view));
    assertEquals(new TreeSet<>(NAMESPACE_VIEW), permissions(view.getRules()));
  }

  @Test
  void namespaceEditorsAndAdminsManageSnapshotsAndMigrationsButNoTasks() {
    ClusterRole edit = chart.one(ClusterRole.class, "vfio-operator-edit");
    assertEquals(
        Map.of(
            "rbac.authorization.k8s.io/aggregate-to-edit", "true",
            "rbac.authorization.k8s.io/aggregate-to-admin", "true"),
        aggregationLabels(edit));
    assertEquals(new TreeSet<>(NAMESPACE_EDIT), permissions(edit.getRules()));
  }

  @Test
  void noAggregatedRoleReachesTasksNodesOrStatus() {
    for (ClusterRole role : chart.all(ClusterRole.class)) {
      if (aggregationLabels(role).isEmpty()) {
        continue;
      }
      for (Permission permission : permissions(role.getRules())) {
        assertTrue(
            Set.of("vfiosnapshots", "vfiomigrations", "vfiosnapshotschedules")
                .contains(permission.resource()),
            () -> role.getMetadata().getName() + " grants " + permission);
      }
    }
  }

  private static Map<String, String> aggregationLabels(ClusterRole role) {
    Map<String, String> labels = new TreeMap<>(role.getMetadata().getLabels());
    labels.keySet().removeIf(k -> !k.startsWith("rbac.authorization.k8s.io/aggregate-to-"));
    return labels;
  }

  @Test
  void noRuleUsesAWildcard() {
    List<PolicyRule> rules = new ArrayList<>();
    chart.all(ClusterRole.class).forEach(r -> rules.addAll(r.getRules()));
    chart.all(Role.class).forEach(r -> rules.addAll(r.getRules()));
    assertFalse(rules.isEmpty());
    for (PolicyRule rule : rules) {
      for (List<String> values :
          List.of(
              rule.getApiGroups(),
              rule.getResources(),
              rule.getVerbs(),
              rule.getResourceNames() == null ? List.<String>of() : rule.getResourceNames())) {
        assertFalse(values.stream().anyMatch(v -> v.contains("*")), () -> "wildcard in " + rule);
      }
      assertEquals(
          List.of(), rule.getNonResourceURLs() == null ? List.of() : rule.getNonResourceURLs());
    }
  }

  @Test
  void eachComponentIsBoundToItsOwnRoleThroughItsOwnServiceAccount() {
    String operatorAccount =
        chart.operatorDeployment().getSpec().getTemplate().getSpec().getServiceAccountName();
    String agentAccount =
        chart.agentDaemonSet().getSpec().getTemplate().getSpec().getServiceAccountName();
    assertNotEquals(operatorAccount, agentAccount);

    assertBinding(
        chart.one(ClusterRoleBinding.class, "vfio-operator-operator").getRoleRef(),
        chart.one(ClusterRoleBinding.class, "vfio-operator-operator").getSubjects(),
        "ClusterRole",
        "vfio-operator-operator",
        operatorAccount);
    assertBinding(
        chart.one(RoleBinding.class, "vfio-operator-leader-election").getRoleRef(),
        chart.one(RoleBinding.class, "vfio-operator-leader-election").getSubjects(),
        "Role",
        "vfio-operator-leader-election",
        operatorAccount);
    assertBinding(
        chart.one(ClusterRoleBinding.class, "vfio-operator-agent").getRoleRef(),
        chart.one(ClusterRoleBinding.class, "vfio-operator-agent").getSubjects(),
        "ClusterRole",
        "vfio-operator-agent",
        agentAccount);
    assertBinding(
        chart.one(RoleBinding.class, "vfio-operator-transport").getRoleRef(),
        chart.one(RoleBinding.class, "vfio-operator-transport").getSubjects(),
        "Role",
        "vfio-operator-transport",
        operatorAccount);
    assertBinding(
        chart.one(RoleBinding.class, "vfio-operator-agent-transport").getRoleRef(),
        chart.one(RoleBinding.class, "vfio-operator-agent-transport").getSubjects(),
        "Role",
        "vfio-operator-agent-transport",
        agentAccount);
    assertBinding(
        chart.one(RoleBinding.class, "vfio-operator-blob-key").getRoleRef(),
        chart.one(RoleBinding.class, "vfio-operator-blob-key").getSubjects(),
        "Role",
        "vfio-operator-blob-key",
        operatorAccount);
    assertEquals(2, chart.all(ClusterRoleBinding.class).size());
    assertEquals(4, chart.all(RoleBinding.class).size());
  }

  private static void assertBinding(
      RoleRef role, List<Subject> subjects, String kind, String name, String account) {
    assertEquals(kind, role.getKind());
    assertEquals(name, role.getName());
    assertEquals(1, subjects.size());
    assertEquals("ServiceAccount", subjects.get(0).getKind());
    assertEquals(account, subjects.get(0).getName());
    assertEquals(RenderedChart.NAMESPACE, subjects.get(0).getNamespace());
  }

  private static TreeSet<Permission> permissions(Collection<PolicyRule> rules) {
    TreeSet<Permission> permissions = new TreeSet<>();
    for (PolicyRule rule : rules) {
      List<String> names =
          rule.getResourceNames() == null || rule.getResourceNames().isEmpty()
              ? List.of("")
              : rule.getResourceNames();
      for (String group : rule.getApiGroups()) {
        for (String resource : rule.getResources()) {
          for (String verb : rule.getVerbs()) {
            for (String name : names) {
              permissions.add(new Permission(group, resource, verb, name));
            }
          }
        }
      }
    }
    return permissions;
  }
}
