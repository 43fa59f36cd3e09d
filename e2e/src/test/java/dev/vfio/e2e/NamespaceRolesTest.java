package dev.vfio.e2e;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.vfio.api.v1alpha1.VfioNodeTask;
import dev.vfio.api.v1alpha1.VfioSnapshot;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.api.model.authentication.TokenRequestBuilder;
import io.fabric8.kubernetes.api.model.rbac.RoleBindingBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The chart's aggregated roles on a real API server: a user bound in a namespace to the built-in
 * {@code edit} role manages snapshots there, one bound to {@code view} only reads them, and neither
 * creates a VfioNodeTask. The built-in roles gain our rules through Kubernetes' own ClusterRole
 * aggregation, exactly as in a cluster.
 */
class NamespaceRolesTest {
  private static final String NS = "team-a";
  private static LocalCluster cluster;
  private static KubernetesClient editor;
  private static KubernetesClient viewer;

  @BeforeAll
  static void start(@TempDir Path work) throws Exception {
    cluster = LocalCluster.start(work);
    cluster.ensureNamespace(NS);
    editor = cluster.clientAs(boundTo("editor", "edit"));
    viewer = cluster.clientAs(boundTo("viewer", "view"));
  }

  @AfterAll
  static void stop() {
    for (KubernetesClient client : new KubernetesClient[] {viewer, editor}) {
      if (client != null) {
        client.close();
      }
    }
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  void aNamespaceEditorCreatesAndDeletesSnapshots() {
    // The aggregation controller fills the built-in role shortly after the chart's role appears.
    await("edit aggregates the chart's role")
        .atMost(Duration.ofSeconds(60))
        .ignoreExceptionsMatching(
            e -> e instanceof KubernetesClientException k && k.getCode() == 403)
        .until(() -> editor.resource(snapshot("by-editor")).create() != null);

    assertEquals(
        "gpu-workload",
        editor
            .resources(VfioSnapshot.class)
            .inNamespace(NS)
            .withName("by-editor")
            .get()
            .getSpec()
            .getPodName());
    editor.resources(VfioSnapshot.class).inNamespace(NS).withName("by-editor").delete();
  }

  @Test
  void aNamespaceViewerReadsSnapshotsButCreatesNone() {
    cluster.client().resource(snapshot("by-admin")).create();
    await("view aggregates the chart's role")
        .atMost(Duration.ofSeconds(60))
        .ignoreExceptionsMatching(
            e -> e instanceof KubernetesClientException k && k.getCode() == 403)
        .until(
            () ->
                viewer.resources(VfioSnapshot.class).inNamespace(NS).withName("by-admin").get()
                    != null);

    assertEquals(
        403,
        assertThrows(
                KubernetesClientException.class,
                () -> viewer.resource(snapshot("by-viewer")).create())
            .getCode());
  }

  @Test
  void noNamespaceUserCreatesNodeTasks() {
    await("edit aggregates the chart's role")
        .atMost(Duration.ofSeconds(60))
        .ignoreExceptionsMatching(
            e -> e instanceof KubernetesClientException k && k.getCode() == 403)
        .until(() -> editor.resources(VfioSnapshot.class).inNamespace(NS).list() != null);

    assertEquals(
        403,
        assertThrows(
                KubernetesClientException.class, () -> editor.resource(task("by-editor")).create())
            .getCode());
  }

  private static VfioSnapshot snapshot(String name) {
    VfioSnapshot snapshot =
        Serialization.unmarshal(
            """
            apiVersion: vfio.dev/v1alpha1
            kind: VfioSnapshot
            spec: {podName: gpu-workload}
            """,
            VfioSnapshot.class);
    snapshot.setMetadata(new ObjectMetaBuilder().withNamespace(NS).withName(name).build());
    return snapshot;
  }

  private static VfioNodeTask task(String name) {
    VfioNodeTask task =
        Serialization.unmarshal(
            """
            apiVersion: vfio.dev/v1alpha1
            kind: VfioNodeTask
            spec: {operation: DeleteBlobs, nodeName: node-a, storageClaim: vfio-snapshots,
                   blobDirectory: team-a/gone}
            """,
            VfioNodeTask.class);
    task.setMetadata(new ObjectMetaBuilder().withNamespace(NS).withName(name).build());
    return task;
  }

  /** A ServiceAccount of the namespace bound there to the built-in ClusterRole {@code role}. */
  private static String boundTo(String account, String role) {
    KubernetesClient admin = cluster.client();
    admin
        .resource(
            new ServiceAccountBuilder()
                .withNewMetadata()
                .withNamespace(NS)
                .withName(account)
                .endMetadata()
                .build())
        .create();
    admin
        .resource(
            new RoleBindingBuilder()
                .withNewMetadata()
                .withNamespace(NS)
                .withName(account)
                .endMetadata()
                .withNewRoleRef()
                .withApiGroup("rbac.authorization.k8s.io")
                .withKind("ClusterRole")
                .withName(role)
                .endRoleRef()
                .addNewSubject()
                .withKind("ServiceAccount")
                .withNamespace(NS)
                .withName(account)
                .endSubject()
                .build())
        .create();
    return admin
        .serviceAccounts()
        .inNamespace(NS)
        .withName(account)
        .tokenRequest(
            new TokenRequestBuilder().withNewSpec().withExpirationSeconds(3600L).endSpec().build())
        .getStatus()
        .getToken();
  }
}
