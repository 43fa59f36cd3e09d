package dev.vfio.agent.blobs;

import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Makes and checks the tags of one sealed blob: HMAC-SHA-256, cut to 16 bytes, under the blob's own
 * key (docs/decisions/0008-authenticated-blobs.md). A chunk's tag covers its index, the SHA-256 of
 * the blob's header and its stored bytes: a chunk changed, moved within the blob or taken from
 * another blob, or a header changed, fails it. The end record's tag covers the chunk count, the
 * state length and the digest, so a blob cut short at a chunk boundary fails too. Each call makes
 * its own MAC, so tags can be made on several threads at once.
 */
final class ChunkSeal {
  static final int TAG_BYTES = 16;

  private static final String HMAC = "HmacSHA256";
  private static final byte CHUNK = 0;
  private static final byte END = 1;

  private final SecretKeySpec key;
  private final byte[] headerHash;

  /**
   * @param blobKey the blob's own key ({@link BlobKey#blobKey})
   * @param headerHash SHA-256 of the blob's bytes up to the header CRC: magic, version, length and
   *     header
   */
  ChunkSeal(byte[] blobKey, byte[] headerHash) {
    this.key = new SecretKeySpec(blobKey, HMAC);
    this.headerHash = headerHash.clone();
  }

  /**
   * The tag of chunk {@code index}, whose stored bytes are the remaining ones of {@code stored}.
   */
  byte[] chunkTag(long index, ByteBuffer stored) {
    return tag(CHUNK, index, stored.duplicate());
  }

  /** Whether {@code tag} is chunk {@code index}'s, for these stored bytes. */
  boolean chunkVerifies(long index, ByteBuffer stored, ByteBuffer tag) {
    return matches(tag, chunkTag(index, stored));
  }

  /** The end record's tag: it seals how many chunks there are and what they hold. */
  byte[] endTag(long chunks, long stateBytes, byte[] digest) {
    ByteBuffer end =
        ByteBuffer.allocate(Long.BYTES + digest.length).putLong(stateBytes).put(digest).flip();
    return tag(END, chunks, end);
  }

  boolean endVerifies(long chunks, long stateBytes, byte[] digest, ByteBuffer tag) {
    return matches(tag, endTag(chunks, stateBytes, digest));
  }

  private byte[] tag(byte kind, long index, ByteBuffer data) {
    try {
      Mac mac = Mac.getInstance(HMAC);
      mac.init(key);
      mac.update(ByteBuffer.allocate(1 + Long.BYTES).put(kind).putLong(index).flip());
      mac.update(headerHash);
      mac.update(data);
      byte[] full = mac.doFinal();
      byte[] tag = new byte[TAG_BYTES];
      System.arraycopy(full, 0, tag, 0, TAG_BYTES);
      return tag;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("every Java runtime provides " + HMAC, e);
    }
  }

  /** In constant time, so that how long a refusal takes tells nothing about the right tag. */
  private static boolean matches(ByteBuffer tag, byte[] expected) {
    byte[] given = new byte[TAG_BYTES];
    tag.duplicate().get(given);
    return MessageDigest.isEqual(given, expected);
  }
}
