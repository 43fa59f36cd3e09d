package dev.vfio.agent.blobs;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The operator's blob key: 32 random bytes the operator keeps in a Secret and every agent mounts.
 * It never seals a chunk itself; each blob gets a key of its own, for its seal's algorithm, derived
 * with HKDF-SHA-256 from it, the blob's random salt and the blob's {@link BlobIdentity}, so that a
 * blob moved to another snapshot or device does not verify, and no two blobs share a key.
 */
public final class BlobKey {
  static final int BYTES = 32;

  private static final SecureRandom RANDOM = new SecureRandom();

  private static final byte[] ID_INFO =
      "vfio-operator blob key id".getBytes(StandardCharsets.UTF_8);
  private static final byte[] HMAC_INFO =
      "vfio-operator blob v3\0".getBytes(StandardCharsets.UTF_8);
  private static final byte[] GCM_INFO =
      "vfio-operator blob v3 AES-256-GCM\0".getBytes(StandardCharsets.UTF_8);

  private final byte[] key;
  private final String id;

  private BlobKey(byte[] key) {
    if (key.length != BYTES) {
      throw new IllegalArgumentException("a blob key is " + BYTES + " bytes, not " + key.length);
    }
    this.key = key.clone();
    this.id = HexFormat.of().formatHex(Arrays.copyOf(hmac(this.key, ID_INFO), 8));
  }

  /** A key of the given 32 bytes. */
  public static BlobKey of(byte[] key) {
    return new BlobKey(key);
  }

  /**
   * The key in {@code file}, where the chart mounts the Secret's {@code blob.key}: its 32 bytes.
   *
   * @throws IOException if the file cannot be read or is not 32 bytes long
   */
  public static BlobKey fromFile(Path file) throws IOException {
    byte[] bytes = Files.readAllBytes(file);
    if (bytes.length != BYTES) {
      throw new IOException(
          file + " holds " + bytes.length + " bytes, not the " + BYTES + " of a blob key");
    }
    return new BlobKey(bytes);
  }

  /**
   * 16 hex digits that name the key without revealing it (an HMAC of a fixed text): a blob's header
   * carries it, so a reader with another key knows that is the problem.
   */
  public String id() {
    return id;
  }

  /** A new seal of the default kind, {@link BlobAuthentication#AES_256_GCM}, for one blob. */
  Sealing newSeal(BlobIdentity identity) {
    return newSeal(identity, BlobAuthentication.AES_256_GCM);
  }

  /** A new seal for one blob: its header part, with a fresh salt, and the key that seals it. */
  Sealing newSeal(BlobIdentity identity, BlobAuthentication authentication) {
    if (authentication == BlobAuthentication.NONE) {
      throw new IllegalArgumentException("a seal authenticates its blob");
    }
    byte[] salt = new byte[BlobSeal.SALT_BYTES];
    RANDOM.nextBytes(salt);
    BlobSeal seal = new BlobSeal(authentication, id, HexFormat.of().formatHex(salt));
    return new Sealing(seal, blobKey(authentication, identity, salt));
  }

  /**
   * The key that seals the blob of {@code identity} whose seal is of {@code authentication} and has
   * {@code salt}: HKDF-SHA-256 (RFC 5869) of this key, one block long. The info names the algorithm
   * for AES-256-GCM, so no key bytes ever serve two algorithms; HMAC-SHA-256 keeps the info its
   * blobs were sealed with.
   */
  byte[] blobKey(BlobAuthentication authentication, BlobIdentity identity, byte[] salt) {
    byte[] label =
        switch (authentication) {
          case HMAC_SHA256 -> HMAC_INFO;
          case AES_256_GCM -> GCM_INFO;
          case NONE -> throw new IllegalArgumentException("an unsealed blob has no key");
        };
    byte[] setUid = identity.setUid().getBytes(StandardCharsets.UTF_8);
    byte[] device = identity.device().getBytes(StandardCharsets.UTF_8);
    byte[] info =
        ByteBuffer.allocate(label.length + setUid.length + 1 + device.length + 1)
            .put(label)
            .put(setUid)
            .put((byte) 0)
            .put(device)
            // HKDF-Expand's counter: one block of output is the 32 bytes the blob's key needs.
            .put((byte) 1)
            .array();
    byte[] pseudoRandom = hmac(salt, key);
    return hmac(pseudoRandom, info);
  }

  /** A seal to write into a header, and the blob key its tags are made with. */
  record Sealing(BlobSeal seal, byte[] blobKey) {}

  /** Leaves the key out, so that logging it cannot leak it. */
  @Override
  public String toString() {
    return "BlobKey[" + id + "]";
  }

  private static byte[] hmac(byte[] key, byte[] data) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
      return mac.doFinal(data);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("every Java runtime provides HmacSHA256", e);
    }
  }
}
