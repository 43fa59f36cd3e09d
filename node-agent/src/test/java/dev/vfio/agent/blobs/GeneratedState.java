package dev.vfio.agent.blobs;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.HexFormat;

/**
 * Device state made up on the fly from a seed, so a test can stream many MiB through a blob without
 * ever holding them; it hashes what it hands out.
 */
final class GeneratedState {
  private final long length;
  private final ByteBuffer buffer;
  private final MessageDigest sha256 = BlobFormat.sha256();
  private final ChunkedSha256 chunkedSha256 = new ChunkedSha256();
  private long produced;
  private long x;

  GeneratedState(long length, int pieceBytes, long seed) {
    this.length = length;
    this.buffer = ByteBuffer.allocate(pieceBytes);
    this.x = seed;
  }

  boolean hasMore() {
    return produced < length;
  }

  /** The next piece, in a buffer reused by the following call. */
  ByteBuffer next() {
    int n = (int) Math.min(buffer.capacity(), length - produced);
    buffer.clear().limit(n);
    while (buffer.remaining() >= Long.BYTES) {
      buffer.putLong(nextRandom());
    }
    long last = nextRandom();
    while (buffer.hasRemaining()) {
      buffer.put((byte) last);
      last >>>= 8;
    }
    buffer.flip();
    sha256.update(buffer.duplicate());
    chunkedSha256.update(buffer);
    produced += n;
    return buffer;
  }

  String sha256Hex() {
    return HexFormat.of().formatHex(sha256.digest());
  }

  /** The digest a blob of format version 2 records for this state. */
  String chunkedSha256Hex() {
    return chunkedSha256.hex();
  }

  /** xorshift64: fast, and incompressible enough to exercise zstd's worst case. */
  private long nextRandom() {
    x ^= x << 13;
    x ^= x >>> 7;
    x ^= x << 17;
    return x;
  }
}
