package dev.vfio.operator.blobkey;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.net.HttpURLConnection;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the blob key in one Secret: 32 random bytes that every agent mounts and seals each blob it
 * saves with (docs/decisions/0008-authenticated-blobs.md), so that a blob changed by anyone without
 * the key is refused before it reaches a device. Made once, like the transport CA, and never
 * replaced: blobs sealed with a key are read only with that key. {@link BlobKeyRotation} makes a
 * new current key and keeps the old ones beside it (docs/decisions/0012-blob-key-ring.md).
 *
 * <p>Several operator replicas may start at once: each creates the Secret only if it is missing,
 * and the one that loses the race (409 Conflict) reads the winner's, so all agents share one key.
 */
public final class BlobKeySecret {
  /** The key's 32 bytes, as the agents read them from the mounted file. */
  public static final String KEY = "blob.key";

  static final int KEY_BYTES = 32;
  static final Map<String, String> LABELS =
      Map.of(
          "app.kubernetes.io/managed-by", "vfio-operator",
          "app.kubernetes.io/component", "blob-key");

  /** Create, lose the race, find it deleted again: past this many turns something is wrong. */
  private static final int ATTEMPTS = 3;

  private static final SecureRandom RANDOM = new SecureRandom();
  private static final Logger LOG = LoggerFactory.getLogger(BlobKeySecret.class);

  private final KubernetesClient client;
  private final String namespace;
  private final String secretName;

  /** {@code secret} is {@code <namespace>/<name>} ({@code VFIO_BLOB_KEY_SECRET}). */
  public BlobKeySecret(KubernetesClient client, String secret) {
    Name name = Name.parse(secret);
    this.client = client;
    this.namespace = name.namespace();
    this.secretName = name.name();
  }

  /** Where the Secret is. */
  record Name(String namespace, String name) {
    /** {@code secret} is {@code <namespace>/<name>} ({@code VFIO_BLOB_KEY_SECRET}). */
    static Name parse(String secret) {
      String[] parts = secret.split("/", 2);
      if (parts.length != 2 || parts[0].isBlank() || parts[1].isBlank()) {
        throw new IllegalArgumentException(
            "VFIO_BLOB_KEY_SECRET '" + secret + "' is not <namespace>/<name>");
      }
      return new Name(parts[0], parts[1]);
    }
  }

  /** 32 new random bytes. */
  static byte[] newKey() {
    byte[] key = new byte[KEY_BYTES];
    RANDOM.nextBytes(key);
    return key;
  }

  /**
   * Makes sure the Secret holds a key, creating it with a new random one if it is missing.
   *
   * @throws IllegalStateException if the Secret exists without a 32-byte key
   */
  public void ensure() {
    for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
      Secret existing = client.secrets().inNamespace(namespace).withName(secretName).get();
      if (existing != null) {
        check(existing);
        return;
      }
      try {
        client.secrets().inNamespace(namespace).resource(secret(newKey())).create();
        LOG.info("created the blob key in Secret {}/{}", namespace, secretName);
        return;
      } catch (KubernetesClientException e) {
        if (e.getCode() != HttpURLConnection.HTTP_CONFLICT) {
          throw e;
        }
        // Another replica created it first; the next turn checks theirs.
      }
    }
    throw new IllegalStateException(
        "Secret "
            + namespace
            + "/"
            + secretName
            + " was neither readable nor creatable after "
            + ATTEMPTS
            + " attempts");
  }

  private Secret secret(byte[] key) {
    return new SecretBuilder()
        .withNewMetadata()
        .withName(secretName)
        .withNamespace(namespace)
        .withLabels(LABELS)
        .endMetadata()
        .withType("Opaque")
        // Not immutable, though a lost key makes its blobs unreadable: a rotation adds a key, and
        // the kubelet refreshes only a mutable Secret in the agents' running pods.
        .withData(Map.of(KEY, Base64.getEncoder().encodeToString(key)))
        .build();
  }

  private void check(Secret secret) {
    String value = secret.getData() == null ? null : secret.getData().get(KEY);
    int length = value == null ? 0 : Base64.getMimeDecoder().decode(value).length;
    if (length != KEY_BYTES) {
      throw new IllegalStateException(
          "Secret "
              + namespace
              + "/"
              + secretName
              + " has no "
              + KEY_BYTES
              + "-byte "
              + KEY
              + "; restore it from a backup (blobs sealed with the old key are read only with it),"
              + " or delete it so that the operator makes a new key");
    }
  }
}
