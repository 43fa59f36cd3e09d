package dev.vfio.agent.blobs;

import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The tags of {@link BlobAuthentication#HMAC_SHA256}: HMAC-SHA-256, cut to 16 bytes as RFC 4868
 * does, of the record's kind, index, the header's hash and its bytes; the state stays in the clear.
 * Each call makes its own MAC.
 */
final class HmacChunkSeal extends ChunkSeal {
  private static final String HMAC = "HmacSHA256";

  private final SecretKeySpec key;

  HmacChunkSeal(byte[] blobKey, byte[] headerHash) {
    super(headerHash);
    this.key = new SecretKeySpec(blobKey, HMAC);
  }

  @Override
  ByteBuffer seal(long index, ByteBuffer stored, byte[] tag, CipherSpace space) {
    System.arraycopy(tag(CHUNK, index, stored.duplicate()), 0, tag, 0, TAG_BYTES);
    return stored;
  }

  @Override
  boolean open(long index, ByteBuffer stored, ByteBuffer tag, CipherSpace space) {
    return matches(tag, tag(CHUNK, index, stored.duplicate()));
  }

  @Override
  byte[] endTag(long chunks, long stateBytes, byte[] digest) {
    return tag(END, chunks, endRecord(stateBytes, digest));
  }

  @Override
  boolean endVerifies(long chunks, long stateBytes, byte[] digest, ByteBuffer tag) {
    return matches(tag, endTag(chunks, stateBytes, digest));
  }

  private byte[] tag(byte kind, long index, ByteBuffer data) {
    try {
      Mac mac = Mac.getInstance(HMAC);
      mac.init(key);
      mac.update(context(kind, index));
      mac.update(data);
      byte[] full = mac.doFinal();
      byte[] tag = new byte[TAG_BYTES];
      System.arraycopy(full, 0, tag, 0, TAG_BYTES);
      return tag;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("every Java runtime provides " + HMAC, e);
    }
  }
}
