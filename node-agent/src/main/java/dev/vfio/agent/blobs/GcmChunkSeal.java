package dev.vfio.agent.blobs;

import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * The seal of {@link BlobAuthentication#AES_256_GCM}: each chunk's stored bytes encrypted with
 * AES-256-GCM, the record's kind, index and the header's hash as associated data; the end record
 * tagged by GCM over no plaintext with its fields as associated data. The nonce is the record's
 * kind and index: unique under a key that is the blob's own (a fresh salt per blob), so no nonce is
 * ever used twice with one key.
 */
final class GcmChunkSeal extends ChunkSeal {
  private static final int TAG_BITS = TAG_BYTES * Byte.SIZE;
  private static final int NONCE_BYTES = 12;

  private final SecretKeySpec key;

  GcmChunkSeal(byte[] blobKey, byte[] headerHash) {
    super(headerHash);
    this.key = new SecretKeySpec(blobKey, "AES");
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

  /** {@code gcm} set up for the record of {@code kind} and {@code index}, its context added. */
  private Cipher start(Cipher gcm, int mode, byte kind, long index)
      throws GeneralSecurityException {
    byte[] nonce = ByteBuffer.allocate(NONCE_BYTES).put(kind).putLong(4, index).array();
    gcm.init(mode, key, new GCMParameterSpec(TAG_BITS, nonce));
    gcm.updateAAD(context(kind, index));
    return gcm;
  }

  private static Cipher newCipher() {
    return new CipherSpace().gcm();
  }
}
