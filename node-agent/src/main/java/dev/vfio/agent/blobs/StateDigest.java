package dev.vfio.agent.blobs;

import java.nio.ByteBuffer;
import java.security.MessageDigest;

/**
 * Computes the digest a blob's trailer carries, in the way its header names ({@link BlobDigest}),
 * as the chunks go by. {@link #hashChunk} may run on any thread; {@link #fold} takes its results in
 * chunk order on the caller's thread.
 */
abstract sealed class StateDigest {
  static final int BYTES = 32;

  static StateDigest of(BlobDigest kind) {
    return switch (kind) {
      case SHA256 -> new Whole();
      case SHA256_CHUNKS -> new OfChunks();
      case NONE -> new Absent();
    };
  }

  /** Whether chunks of this digest can be hashed at the same time, on several threads. */
  abstract boolean parallel();

  /**
   * Hashes the remaining bytes of one chunk of uncompressed state without moving its position.
   * Unless {@link #parallel}, calls must not overlap and must come in chunk order.
   *
   * @return what {@link #fold} takes for this chunk
   */
  abstract byte[] hashChunk(ByteBuffer state);

  /** Takes the result of {@link #hashChunk} for the next chunk in order. */
  abstract void fold(byte[] chunkHash);

  /** The digest of the state folded so far; ends this digest. */
  abstract byte[] digest();

  /** Version 1: one running SHA-256, so one chunk at a time. */
  private static final class Whole extends StateDigest {
    private final MessageDigest sha256 = BlobFormat.sha256();

    @Override
    boolean parallel() {
      return false;
    }

    @Override
    byte[] hashChunk(ByteBuffer state) {
      sha256.update(state.duplicate());
      return null;
    }

    @Override
    void fold(byte[] chunkHash) {}

    @Override
    byte[] digest() {
      return sha256.digest();
    }
  }

  /** SHA-256 of the chunks' SHA-256s: each chunk is hashed on its own, on any thread. */
  private static final class OfChunks extends StateDigest {
    private final MessageDigest root = BlobFormat.sha256();

    @Override
    boolean parallel() {
      return true;
    }

    @Override
    byte[] hashChunk(ByteBuffer state) {
      MessageDigest sha256 = BlobFormat.sha256();
      sha256.update(state.duplicate());
      return sha256.digest();
    }

    @Override
    void fold(byte[] chunkHash) {
      root.update(chunkHash);
    }

    @Override
    byte[] digest() {
      return root.digest();
    }
  }

  private static final class Absent extends StateDigest {
    @Override
    boolean parallel() {
      return true;
    }

    @Override
    byte[] hashChunk(ByteBuffer state) {
      return null;
    }

    @Override
    void fold(byte[] chunkHash) {}

    @Override
    byte[] digest() {
      return new byte[BYTES];
    }
  }
}
