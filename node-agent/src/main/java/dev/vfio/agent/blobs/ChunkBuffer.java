package dev.vfio.agent.blobs;

import java.nio.ByteBuffer;

/**
 * A reusable direct buffer that grows to the largest chunk seen, never past a bound: memory stays
 * constant for a large blob, and a small blob does not cost a full chunk of native memory.
 * Direct, because zstd-jni reaches native memory without a copy only through direct buffers.
 */
final class ChunkBuffer {
  private static final int SMALLEST = 4096;

  private final int bound;
  private ByteBuffer buffer = ByteBuffer.allocateDirect(0);

  ChunkBuffer(int bound) {
    this.bound = bound;
  }

  /** The buffer, cleared, with room for exactly {@code length} bytes. */
  ByteBuffer ofLength(int length) {
    if (length > bound) {
      throw new IllegalArgumentException(length + " bytes is more than a chunk buffer holds");
    }
    if (buffer.capacity() < length) {
      // Powers of two, so chunks of slowly growing sizes do not allocate once each.
      int rounded = Integer.highestOneBit(Math.max(length, SMALLEST) - 1) << 1;
      buffer = ByteBuffer.allocateDirect(Math.min(rounded, bound));
    }
    return buffer.clear().limit(length);
  }
}
