package dev.vfio.e2e;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vfio.api.v1alpha1.Condition;
import dev.vfio.api.v1alpha1.Reason;
import dev.vfio.api.v1alpha1.SnapshotPhase;
import dev.vfio.api.v1alpha1.TaskPhase;
import dev.vfio.api.v1alpha1.VfioNodeTask;
import dev.vfio.api.v1alpha1.VfioNodeTaskStatus;
import dev.vfio.api.v1alpha1.VfioSnapshot;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.apiextensions.v1.JSONSchemaProps;
import io.fabric8.kubernetes.api.model.apiextensions.v1.JSONSchemaPropsBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An upgrade half done: the installed CRDs are newer than the running operator and agents and store
 * a field and an enum value they do not know. The object they cannot honour ends Failed with
 * InvalidSpec naming the field; every other object keeps being served.
 */
class CrdSkewTest extends ClusterTest {
  @BeforeAll
  static void start(@TempDir Path work) throws Exception {
    startCluster(
        work,
        List.of(
            SimulatedNode.Device.of("0000:3b:00.0", 1 << 20),
            SimulatedNode.Device.of("0000:3c:00.0", 1 << 20)),
        List.of(SimulatedNode.Device.of("0000:af:00.0", 1 << 20)));
    cluster.runningPod(NS, "skewed", "node-a", "0000:3b:00.0");
    cluster.runningPod(NS, "served", "node-a", "0000:3c:00.0");
    // The CRD of a later release: a third compression value and a setting this operator lacks.
    client
        .apiextensions()
        .v1()
        .customResourceDefinitions()
        .withName("vfiosnapshots.vfio.dev")
        .edit(
            crd -> {
              JSONSchemaProps spec =
                  crd.getSpec()
                      .getVersions()
                      .get(0)
                      .getSchema()
                      .getOpenAPIV3Schema()
                      .getProperties()
                      .get("spec");
              spec.getProperties()
                  .get("compression")
                  .getEnum()
                  .add(Serialization.jsonMapper().valueToTree("Gzip"));
              spec.getProperties()
                  .put("verifyAfterSave", new JSONSchemaPropsBuilder().withType("boolean").build());
              return crd;
            });
    client
        .apiextensions()
        .v1()
        .customResourceDefinitions()
        .withName("vfionodetasks.vfio.dev")
        .edit(
            crd -> {
              crd.getSpec()
                  .getVersions()
                  .get(0)
                  .getSchema()
                  .getOpenAPIV3Schema()
                  .getProperties()
                  .get("spec")
                  .getProperties()
                  .get("compression")
                  .getEnum()
                  .add(Serialization.jsonMapper().valueToTree("Gzip"));
              return crd;
            });
  }

  @Test
  void aTaskFromANewerOperatorFailsNamingTheFieldAndTheAgentGoesOnWorking() {
    // As a newer operator writes it: the agent's typed model has no Gzip.
    GenericKubernetesResource task =
        Serialization.unmarshal(
            """
        apiVersion: vfio.dev/v1alpha1
        kind: VfioNodeTask
        metadata: {name: newer-save, namespace: default}
        spec: {operation: Save, nodeName: node-b, podName: nobody, podUid: u1, devices: ["0000:3b:00.0"],
               storageClaim: vfio-snapshots, blobDirectory: default/newer, compression: Gzip}
        """,
            GenericKubernetesResource.class);
    // As the operator: the chart's admission policy lets no one else create tasks.
    try (KubernetesClient operator = cluster.operatorClient()) {
      await("the newer task CRD in effect")
          .atMost(PATIENCE)
          .ignoreException(KubernetesClientException.class)
          .until(() -> operator.resource(task).create() != null);
    }

    await("node-b's agent fails the task")
        .atMost(PATIENCE)
        .until(
            () -> {
              VfioNodeTask stored =
                  client.resources(VfioNodeTask.class).inNamespace(NS).withName("newer-save").get();
              return stored.getStatus() != null
                  && stored.getStatus().getPhase() == TaskPhase.Failed;
            });
    VfioNodeTaskStatus status =
        client
            .resources(VfioNodeTask.class)
            .inNamespace(NS)
            .withName("newer-save")
            .get()
            .getStatus();
    assertEquals(Reason.INVALID_SPEC.wire(), status.getReason());
    assertEquals(
        "spec.compression: \"Gzip\" is not a value this agent knows (None, Zstd); the operator may be "
            + "newer than the agent: upgrade the node agent",
        status.getMessage());

    cluster.runningPod(NS, "after-newer-task", "node-b", "0000:af:00.0");
    createSnapshot("after-newer-task", "after-newer-task", spec -> {});
    awaitPhase("after-newer-task", SnapshotPhase.Ready);
  }

  @Test
  void aSnapshotOfANewerCrdFailsNamingTheFieldAndTheOthersAreServed() {
    await("the newer CRD in effect")
        .atMost(PATIENCE)
        .ignoreException(KubernetesClientException.class)
        .until(
            () ->
                client
                        .resource(
                            Serialization.unmarshal(
                                """
            apiVersion: vfio.dev/v1alpha1
            kind: VfioSnapshot
            metadata: {name: gzip, namespace: default}
            spec: {podName: skewed, compression: Gzip}
            """,
                                GenericKubernetesResource.class))
                        .create()
                    != null);
    client
        .resource(
            Serialization.unmarshal(
                """
        apiVersion: vfio.dev/v1alpha1
        kind: VfioSnapshot
        metadata: {name: verify-after-save, namespace: default}
        spec: {podName: skewed, verifyAfterSave: true}
        """,
                GenericKubernetesResource.class))
        .create();
    createSnapshot("served", "served", spec -> {});

    assertRefusedNaming("gzip", "spec.compression: \"Gzip\" is not a value this operator knows");
    assertRefusedNaming("verify-after-save", "spec.verifyAfterSave");
    awaitPhase("served", SnapshotPhase.Ready);
    assertEquals(
        "RUNNING",
        device("node-a", "0000:3b:00.0").getMigrationState(),
        "the skewed pod's device was not touched");
  }

  private static void assertRefusedNaming(String name, String message) {
    VfioSnapshot failed = awaitPhase(name, SnapshotPhase.Failed);
    Condition ready = readyCondition(failed);
    assertEquals(Reason.INVALID_SPEC.wire(), ready.getReason());
    assertTrue(ready.getMessage().contains(message), ready.getMessage());
  }
}
