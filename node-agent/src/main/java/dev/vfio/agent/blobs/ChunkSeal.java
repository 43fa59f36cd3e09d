package dev.vfio.agent.blobs;

import java.nio.ByteBuffer;
import java.security.MessageDigest;

/**
 * Makes and checks the tags of one sealed blob, under the blob's own key
 * (docs/decisions/0008-authenticated-blobs.md, docs/decisions/0010-gcm-blobs.md). A chunk's tag
 * covers its index, the SHA-256 of the blob's header and its stored bytes: a chunk changed, moved
 * within the blob or taken from another blob, or a header changed, fails it. The end record's tag
 * covers the chunk count, the state length and the digest, so a blob cut short at a chunk boundary
 * fails too. Safe for several threads at once, each with its own {@link CipherSpace}.
 */
abstract sealed class ChunkSeal permits HmacChunkSeal, GcmChunkSeal {
  static final int TAG_BYTES = 16;

  /** The kind of record a tag is for, bound into it: a chunk's tag never passes for the end's. */
  static final byte CHUNK = 0;

  static final byte END = 1;

  /** What every tag covers besides the record: the header as written. */
  final byte[] headerHash;

  ChunkSeal(byte[] headerHash) {
    this.headerHash = headerHash.clone();
  }

  /**
   * The seal of {@code authentication}.
   *
   * @param blobKey the blob's own key for that seal ({@link BlobKey#blobKey})
   * @param headerHash SHA-256 of the blob's bytes up to the header CRC: magic, version, length and
   *     header
   */
  static ChunkSeal of(BlobAuthentication authentication, byte[] blobKey, byte[] headerHash) {
    return switch (authentication) {
      case HMAC_SHA256 -> new HmacChunkSeal(blobKey, headerHash);
      case AES_256_GCM -> new GcmChunkSeal(blobKey, headerHash);
      case NONE -> throw new IllegalArgumentException("an unsealed blob has no tags to make");
    };
  }

  /**
   * Seals chunk {@code index}, whose stored bytes are the remaining ones of {@code stored}: puts
   * its tag into {@code tag} and returns the bytes to write, of the same length (the stored bytes
   * themselves, or their ciphertext in {@code space}, valid until its next use).
   */
  abstract ByteBuffer seal(long index, ByteBuffer stored, byte[] tag, CipherSpace space);

  /**
   * Whether {@code tag} is chunk {@code index}'s for the bytes read, the remaining ones of {@code
   * stored}; if it is, {@code stored} then holds the chunk's stored bytes in the clear (decrypted
   * in place). A chunk that fails is left as read.
   */
  abstract boolean open(long index, ByteBuffer stored, ByteBuffer tag, CipherSpace space);

  /** The end record's tag: it seals how many chunks there are and what they hold. */
  abstract byte[] endTag(long chunks, long stateBytes, byte[] digest);

  abstract boolean endVerifies(long chunks, long stateBytes, byte[] digest, ByteBuffer tag);

  /** The record's kind, its index and the header's hash, in the order HMAC tags take them. */
  final byte[] context(byte kind, long index) {
    return ByteBuffer.allocate(1 + Long.BYTES + headerHash.length)
        .put(kind)
        .putLong(index)
        .put(headerHash)
        .array();
  }

  /** The end record's fields a tag covers: the state length and the digest. */
  static ByteBuffer endRecord(long stateBytes, byte[] digest) {
    return ByteBuffer.allocate(Long.BYTES + digest.length).putLong(stateBytes).put(digest).flip();
  }

  /** In constant time, so that how long a refusal takes tells nothing about the right tag. */
  static boolean matches(ByteBuffer tag, byte[] expected) {
    byte[] given = new byte[TAG_BYTES];
    tag.duplicate().get(given);
    return MessageDigest.isEqual(given, expected);
  }
}
