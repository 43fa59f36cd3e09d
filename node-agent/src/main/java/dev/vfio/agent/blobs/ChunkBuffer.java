package dev.vfio.agent.blobs;

import java.nio.ByteBuffer;

/**
 * A reusable direct buffer that grows to the largest chunk seen, never past a bound: memory stays
 * constant for a large blob, and a small blob does not cost a full chunk of native memory. Direct,
 * because zstd-jni reaches native memory without a copy only through direct buffers; on the heap
 * where a stream fills it, which takes an array without a copy.
 */
final class ChunkBuffer {
  private static final int SMALLEST = 4096;

  private final int bound;
  private final boolean heap;
  private ByteBuffer buffer;

  ChunkBuffer(int bound) {
    this(bound, false);
  }

  ChunkBuffer(int bound, boolean heap) {
    this.bound = bound;
    this.heap = heap;
    this.buffer = allocate(0);
  }

  /** The buffer, cleared, with room for exactly {@code length} bytes. */
  ByteBuffer ofLength(int length) {
    if (length > bound) {
      throw new IllegalArgumentException(length + " bytes is more than a chunk buffer holds");
    }
    if (buffer.capacity() < length) {
      // Powers of two, so chunks of slowly growing sizes do not allocate once each.
      int rounded = Integer.highestOneBit(Math.max(length, SMALLEST) - 1) << 1;
      buffer = allocate(Math.min(rounded, bound));
    }
    return buffer.clear().limit(length);
  }

  private ByteBuffer allocate(int capacity) {
    return heap ? ByteBuffer.allocate(capacity) : ByteBuffer.allocateDirect(capacity);
  }
}
