package dev.vfio.operator.blobkey;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.net.HttpURLConnection;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Rotates the blob key when an admin asks (docs/decisions/0012-blob-key-ring.md): annotating the
 * Secret {@code vfio.dev/rotate-blob-key=<any new value>} makes a new current key, and the old one
 * stays in the Secret as {@code previous-<id>.key}, so that every blob sealed with it still opens.
 * The operator never removes a previous key: snapshots sealed with it would become unrestorable.
 *
 * <p>The value handled last is recorded in {@code vfio.dev/blob-key-rotated-for}, in the same
 * update as the keys, so a value rotates once, whichever replica sees it and however often.
 */
public final class BlobKeyRotation implements AutoCloseable {
  /** Set by an admin, to any value not handled before, to ask for a new key. */
  public static final String ROTATE = "vfio.dev/rotate-blob-key";

  /** Set by the operator: the value of {@link #ROTATE} it rotated for last. */
  public static final String ROTATED_FOR = "vfio.dev/blob-key-rotated-for";

  private static final byte[] ID_INFO =
      "vfio-operator blob key id".getBytes(StandardCharsets.UTF_8);
  private static final Logger LOG = LoggerFactory.getLogger(BlobKeyRotation.class);

  private final KubernetesClient client;
  private final String namespace;
  private final String secretName;
  private SharedIndexInformer<Secret> informer;

  BlobKeyRotation(KubernetesClient client, String namespace, String secretName) {
    this.client = client;
    this.namespace = namespace;
    this.secretName = secretName;
  }

  /** Watches the Secret {@code <namespace>/<name>} and rotates whenever it is annotated anew. */
  public static BlobKeyRotation start(KubernetesClient client, String secret) {
    BlobKeySecret.Name name = BlobKeySecret.Name.parse(secret);
    BlobKeyRotation rotation = new BlobKeyRotation(client, name.namespace(), name.name());
    rotation.informer =
        client
            .secrets()
            .inNamespace(name.namespace())
            .withName(name.name())
            .inform(
                new ResourceEventHandler<>() {
                  @Override
                  public void onAdd(Secret secret) {
                    rotation.rotateLogged();
                  }

                  @Override
                  public void onUpdate(Secret before, Secret secret) {
                    rotation.rotateLogged();
                  }

                  @Override
                  public void onDelete(Secret secret, boolean unknown) {}
                });
    return rotation;
  }

  /**
   * Rotates if the Secret, read again (an informer's copy may be stale), asks for it.
   *
   * @return whether this call made a new key
   * @throws KubernetesClientException 409 if another replica changed the Secret meanwhile
   */
  boolean rotateIfAsked() {
    Secret secret = client.secrets().inNamespace(namespace).withName(secretName).get();
    if (secret == null) {
      return false;
    }
    Map<String, String> annotations =
        secret.getMetadata().getAnnotations() == null
            ? Map.of()
            : secret.getMetadata().getAnnotations();
    String asked = annotations.get(ROTATE);
    if (asked == null || asked.equals(annotations.get(ROTATED_FOR))) {
      return false;
    }
    if (Boolean.TRUE.equals(secret.getImmutable())) {
      // Its data cannot change, and the kubelet never refreshes an immutable Secret in a running
      // pod: an admin makes it mutable once and restarts the agents (docs/day-2.md).
      LOG.warn(
          "Secret {}/{} asks for a new blob key but is immutable (made by an earlier"
              + " operator); re-create it without immutable: true, then annotate it again",
          namespace,
          secretName);
      return false;
    }
    String current = secret.getData().get(BlobKeySecret.KEY);
    String previousId = id(Base64.getMimeDecoder().decode(current));
    Map<String, String> data = new HashMap<>(secret.getData());
    data.put("previous-" + previousId + ".key", current);
    byte[] next = BlobKeySecret.newKey();
    data.put(BlobKeySecret.KEY, Base64.getEncoder().encodeToString(next));
    Secret rotated =
        new SecretBuilder(secret)
            .editMetadata()
            .addToAnnotations(ROTATED_FOR, asked)
            .endMetadata()
            .withData(data)
            .build();
    // The resourceVersion read above makes this update fail 409 if the Secret changed since, so
    // two replicas never both rotate, and a key added meanwhile is not lost.
    client.secrets().inNamespace(namespace).resource(rotated).update();
    LOG.info(
        "rotated the blob key of Secret {}/{}: {} seals new blobs, {} is kept to open older ones",
        namespace,
        secretName,
        id(next),
        previousId);
    return true;
  }

  private void rotateLogged() {
    try {
      rotateIfAsked();
    } catch (KubernetesClientException e) {
      if (e.getCode() != HttpURLConnection.HTTP_CONFLICT) {
        LOG.warn("could not rotate the blob key of {}/{}", namespace, secretName, e);
      }
      // 409: the Secret changed meanwhile; its update event calls again.
    }
  }

  /**
   * The id agents give the key (the node agent's {@code BlobKey.id}): the first 8 bytes of
   * HMAC-SHA-256 of the key over a fixed text, in hex.
   */
  static String id(byte[] key) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
      return HexFormat.of().formatHex(Arrays.copyOf(mac.doFinal(ID_INFO), 8));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("every Java runtime provides HmacSHA256", e);
    }
  }

  @Override
  public void close() {
    if (informer != null) {
      informer.close();
    }
  }
}
