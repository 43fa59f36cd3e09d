package dev.vfio.operator.blobkey;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import java.util.Base64;
import java.util.Map;
import org.junit.jupiter.api.Test;

@EnableKubernetesMockClient(crud = true)
class BlobKeySecretTest {
  private static final String NAMESPACE = "vfio-system";
  private static final String NAME = "vfio-operator-blob-key";

  KubernetesClient client;

  @Test
  void firstCallCreatesAMutableSecretWithA32ByteKeyThatLaterCallsKeep() {
    new BlobKeySecret(client, NAMESPACE + "/" + NAME).ensure();
    Secret created = client.secrets().inNamespace(NAMESPACE).withName(NAME).get();

    new BlobKeySecret(client, NAMESPACE + "/" + NAME).ensure();
    Secret kept = client.secrets().inNamespace(NAMESPACE).withName(NAME).get();

    assertEquals(
        Map.of(BlobKeySecret.KEY, created.getData().get(BlobKeySecret.KEY)), kept.getData());
    assertEquals(32, Base64.getDecoder().decode(created.getData().get(BlobKeySecret.KEY)).length);
    // Mutable, so that a rotation can add a key and the kubelet refreshes it in running agents.
    assertNotEquals(Boolean.TRUE, created.getImmutable());
    assertEquals("blob-key", created.getMetadata().getLabels().get("app.kubernetes.io/component"));
  }

  @Test
  void twoClustersGetDifferentKeys() {
    new BlobKeySecret(client, NAMESPACE + "/" + NAME).ensure();
    new BlobKeySecret(client, NAMESPACE + "/other").ensure();

    String first =
        client.secrets().inNamespace(NAMESPACE).withName(NAME).get().getData().get("blob.key");
    String second =
        client.secrets().inNamespace(NAMESPACE).withName("other").get().getData().get("blob.key");
    assertTrue(!first.equals(second));
  }

  @Test
  void aSecretWithoutAKeyIsNeverOverwritten() {
    client
        .secrets()
        .inNamespace(NAMESPACE)
        .resource(
            new SecretBuilder()
                .withNewMetadata()
                .withName(NAME)
                .withNamespace(NAMESPACE)
                .endMetadata()
                .withData(Map.of("blob.key", Base64.getEncoder().encodeToString(new byte[16])))
                .build())
        .create();

    IllegalStateException refused =
        assertThrows(
            IllegalStateException.class,
            () -> new BlobKeySecret(client, NAMESPACE + "/" + NAME).ensure());
    assertTrue(refused.getMessage().contains("32-byte blob.key"), refused.getMessage());
    assertEquals(
        Base64.getEncoder().encodeToString(new byte[16]),
        client.secrets().inNamespace(NAMESPACE).withName(NAME).get().getData().get("blob.key"));
  }
}
