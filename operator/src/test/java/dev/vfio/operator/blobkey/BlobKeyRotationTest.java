package dev.vfio.operator.blobkey;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import org.junit.jupiter.api.Test;

@EnableKubernetesMockClient(crud = true)
class BlobKeyRotationTest {
  private static final String NAMESPACE = "vfio-system";
  private static final String NAME = "vfio-operator-blob-key";

  KubernetesClient client;

  @Test
  void anAnnotationMakesANewCurrentKeyAndKeepsTheOldOneUnderItsId() {
    new BlobKeySecret(client, NAMESPACE + "/" + NAME).ensure();
    String before = secret().getData().get(BlobKeySecret.KEY);

    annotate("2026-12-08");
    assertTrue(rotation().rotateIfAsked());

    Secret after = secret();
    String current = after.getData().get(BlobKeySecret.KEY);
    assertNotEquals(before, current);
    assertEquals(32, Base64.getDecoder().decode(current).length);
    assertEquals(
        Map.of(BlobKeySecret.KEY, current, previousEntry(before), before), after.getData());
    assertEquals(
        "2026-12-08", after.getMetadata().getAnnotations().get(BlobKeyRotation.ROTATED_FOR));
  }

  @Test
  void aValueAlreadyHandledDoesNotRotateAgain() {
    new BlobKeySecret(client, NAMESPACE + "/" + NAME).ensure();
    annotate("once");
    rotation().rotateIfAsked();
    Map<String, String> rotated = secret().getData();

    assertFalse(rotation().rotateIfAsked());
    assertEquals(rotated, secret().getData());
  }

  @Test
  void noRotationDropsAnEarlierKey() {
    new BlobKeySecret(client, NAMESPACE + "/" + NAME).ensure();
    String first = secret().getData().get(BlobKeySecret.KEY);
    annotate("one");
    rotation().rotateIfAsked();
    String second = secret().getData().get(BlobKeySecret.KEY);
    annotate("two");
    rotation().rotateIfAsked();

    Map<String, String> data = secret().getData();
    assertEquals(first, data.get(previousEntry(first)));
    assertEquals(second, data.get(previousEntry(second)));
    assertEquals(3, data.size());
  }

  @Test
  void anImmutableSecretOfAnEarlierOperatorIsLeftAsItIs() {
    Secret immutable =
        new SecretBuilder()
            .withNewMetadata()
            .withName(NAME)
            .withNamespace(NAMESPACE)
            .addToAnnotations(BlobKeyRotation.ROTATE, "now")
            .endMetadata()
            .withImmutable(true)
            .withData(Map.of(BlobKeySecret.KEY, Base64.getEncoder().encodeToString(new byte[32])))
            .build();
    client.secrets().inNamespace(NAMESPACE).resource(immutable).create();

    assertFalse(rotation().rotateIfAsked());
    assertEquals(immutable.getData(), secret().getData());
  }

  @Test
  void theRunningOperatorRotatesWhenTheSecretIsAnnotated() {
    new BlobKeySecret(client, NAMESPACE + "/" + NAME).ensure();
    String before = secret().getData().get(BlobKeySecret.KEY);

    try (BlobKeyRotation running = BlobKeyRotation.start(client, NAMESPACE + "/" + NAME)) {
      annotate("by-kubectl");
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> secret().getData().containsKey(previousEntry(before)));
    }
    assertNotEquals(before, secret().getData().get(BlobKeySecret.KEY));
  }

  private BlobKeyRotation rotation() {
    return new BlobKeyRotation(client, NAMESPACE, NAME);
  }

  private Secret secret() {
    return client.secrets().inNamespace(NAMESPACE).withName(NAME).get();
  }

  private void annotate(String value) {
    client
        .secrets()
        .inNamespace(NAMESPACE)
        .withName(NAME)
        .edit(
            s ->
                new SecretBuilder(s)
                    .editMetadata()
                    .addToAnnotations(BlobKeyRotation.ROTATE, value)
                    .endMetadata()
                    .build());
  }

  private static String previousEntry(String base64Key) {
    return "previous-" + BlobKeyRotation.id(Base64.getDecoder().decode(base64Key)) + ".key";
  }
}
