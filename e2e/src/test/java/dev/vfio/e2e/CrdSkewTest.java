package dev.vfio.e2e;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vfio.api.v1alpha1.Condition;
import dev.vfio.api.v1alpha1.Reasons;
import dev.vfio.api.v1alpha1.SnapshotPhase;
import dev.vfio.api.v1alpha1.VfioSnapshot;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.apiextensions.v1.JSONSchemaProps;
import io.fabric8.kubernetes.api.model.apiextensions.v1.JSONSchemaPropsBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An upgrade half done: the installed CRD is newer than the running operator and stores a field
 * and an enum value this operator does not know. The object it cannot honour ends Failed with
 * InvalidSpec naming the field; every other snapshot keeps being served.
 */
class CrdSkewTest extends ClusterTest {
  @BeforeAll
  static void start(@TempDir Path work) throws Exception {
    startCluster(work, List.of(SimulatedNode.Device.of("0000:3b:00.0", 1 << 20), SimulatedNode.Device.of("0000:3c:00.0", 1 << 20)),
        List.of(SimulatedNode.Device.of("0000:af:00.0", 1 << 20)));
    cluster.runningPod(NS, "skewed", "node-a", "0000:3b:00.0");
    cluster.runningPod(NS, "served", "node-a", "0000:3c:00.0");
    // The CRD of a later release: a third compression value and a setting this operator lacks.
    client.apiextensions().v1().customResourceDefinitions().withName("vfiosnapshots.vfio.dev").edit(crd -> {
      JSONSchemaProps spec = crd.getSpec().getVersions().get(0).getSchema().getOpenAPIV3Schema()
          .getProperties().get("spec");
      spec.getProperties().get("compression").getEnum().add(Serialization.jsonMapper().valueToTree("Gzip"));
      spec.getProperties().put("verifyAfterSave", new JSONSchemaPropsBuilder().withType("boolean").build());
      return crd;
    });
  }

  @Test
  void aSnapshotOfANewerCrdFailsNamingTheFieldAndTheOthersAreServed() {
    await("the newer CRD in effect").atMost(PATIENCE).ignoreException(KubernetesClientException.class)
        .until(() -> client.resource(Serialization.unmarshal("""
            apiVersion: vfio.dev/v1alpha1
            kind: VfioSnapshot
            metadata: {name: gzip, namespace: default}
            spec: {podName: skewed, compression: Gzip}
            """, GenericKubernetesResource.class)).create() != null);
    client.resource(Serialization.unmarshal("""
        apiVersion: vfio.dev/v1alpha1
        kind: VfioSnapshot
        metadata: {name: verify-after-save, namespace: default}
        spec: {podName: skewed, verifyAfterSave: true}
        """, GenericKubernetesResource.class)).create();
    createSnapshot("served", "served", spec -> { });

    assertRefusedNaming("gzip", "spec.compression: \"Gzip\" is not a value this operator knows");
    assertRefusedNaming("verify-after-save", "spec.verifyAfterSave");
    awaitPhase("served", SnapshotPhase.Ready);
    assertEquals("RUNNING", device("node-a", "0000:3b:00.0").getMigrationState(), "the skewed pod's device was not touched");
  }

  private static void assertRefusedNaming(String name, String message) {
    VfioSnapshot failed = awaitPhase(name, SnapshotPhase.Failed);
    Condition ready = readyCondition(failed);
    assertEquals(Reasons.INVALID_SPEC, ready.getReason());
    assertTrue(ready.getMessage().contains(message), ready.getMessage());
  }
}
