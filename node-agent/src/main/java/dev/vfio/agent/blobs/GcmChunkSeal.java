package dev.vfio.agent.blobs;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.Mac;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * The seal of {@link BlobAuthentication#AES_256_GCM}: each chunk's stored bytes encrypted with
 * AES-256-GCM, the record's kind and index as associated data; the end record tagged by GCM over no
 * plaintext with its kind, the chunk count, the state length and the digest as associated data. The
 * nonce is the record's kind and index: unique under a key that is the blob's own (a fresh salt per
 * blob), so no nonce is ever used twice with one key.
 *
 * <p>The header's hash is bound through the key (HKDF-Expand of the blob's key over it) rather than
 * the associated data: on this runtime, GCM calls whose associated data fill a 16-byte block or
 * more leave HotSpot's compiled GCM at 5–15 MiB/s for 1 MiB chunks, while shorter ones run at the
 * CPU's speed (docs/decisions/0010-gcm-blobs.md).
 */
final class GcmChunkSeal extends ChunkSeal {
  private static final int TAG_BITS = TAG_BYTES * Byte.SIZE;
  private static final int NONCE_BYTES = 12;

  private static final byte[] HEADER_INFO =
      "vfio-operator blob v3 AES-256-GCM header\0".getBytes(StandardCharsets.UTF_8);

  private final SecretKeySpec key;

  GcmChunkSeal(byte[] blobKey, byte[] headerHash) {
    super(headerHash);
    this.key = new SecretKeySpec(headerKey(blobKey, headerHash), "AES");
  }

  /** HKDF-Expand (RFC 5869) of the blob's key, one block, over the label and the header's hash. */
  private static byte[] headerKey(byte[] blobKey, byte[] headerHash) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(blobKey, "HmacSHA256"));
      mac.update(HEADER_INFO);
      mac.update(headerHash);
      mac.update((byte) 1);
      return mac.doFinal();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("every Java runtime provides HmacSHA256", e);
    }
  }

  @Override
  ByteBuffer seal(long index, ByteBuffer stored, byte[] tag, CipherSpace space) {
    int length = stored.remaining();
    byte[] in = space.in();
    stored.duplicate().get(in, 0, length);
    byte[] out = space.out();
    try {
      Cipher gcm = start(space.gcm(), Cipher.ENCRYPT_MODE, CHUNK, index);
      gcm.doFinal(in, 0, length, out, 0);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES-256-GCM refused a chunk it was made for", e);
    }
    System.arraycopy(out, length, tag, 0, TAG_BYTES);
    return ByteBuffer.wrap(out, 0, length);
  }

  @Override
  boolean open(long index, ByteBuffer stored, ByteBuffer tag, CipherSpace space) {
    int length = stored.remaining();
    byte[] in = space.in();
    stored.duplicate().get(in, 0, length);
    tag.duplicate().get(in, length, TAG_BYTES);
    byte[] out = space.out();
    try {
      Cipher gcm = start(space.gcm(), Cipher.DECRYPT_MODE, CHUNK, index);
      gcm.doFinal(in, 0, length + TAG_BYTES, out, 0);
    } catch (AEADBadTagException e) {
      return false;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES-256-GCM refused a chunk it was made for", e);
    }
    stored.duplicate().put(out, 0, length);
    return true;
  }

  @Override
  byte[] endTag(long chunks, long stateBytes, byte[] digest) {
    try {
      Cipher gcm = start(newCipher(), Cipher.ENCRYPT_MODE, END, chunks);
      gcm.updateAAD(endRecord(stateBytes, digest));
      return gcm.doFinal();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES-256-GCM refused an end record", e);
    }
  }

  @Override
  boolean endVerifies(long chunks, long stateBytes, byte[] digest, ByteBuffer tag) {
    byte[] given = new byte[TAG_BYTES];
    tag.duplicate().get(given);
    try {
      Cipher gcm = start(newCipher(), Cipher.DECRYPT_MODE, END, chunks);
      gcm.updateAAD(endRecord(stateBytes, digest));
      gcm.doFinal(given);
      return true;
    } catch (AEADBadTagException e) {
      return false;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES-256-GCM refused an end record", e);
    }
  }

  /**
   * {@code gcm} set up for the record of {@code kind} and {@code index}, with those as associated
   * data (9 bytes, below a block: see the class comment).
   */
  private Cipher start(Cipher gcm, int mode, byte kind, long index)
      throws GeneralSecurityException {
    byte[] nonce = ByteBuffer.allocate(NONCE_BYTES).put(kind).putLong(4, index).array();
    gcm.init(mode, key, new GCMParameterSpec(TAG_BITS, nonce));
    gcm.updateAAD(ByteBuffer.allocate(1 + Long.BYTES).put(kind).putLong(index).array());
    return gcm;
  }

  private static Cipher newCipher() {
    return new CipherSpace().gcm();
  }
}
