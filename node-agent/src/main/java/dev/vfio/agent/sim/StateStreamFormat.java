package dev.vfio.agent.sim;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * The byte layout of a simulated device's migration stream, shared by the device that produces it,
 * the device that loads it, and {@link SimulatedState#read} that checks it offline.
 *
 * <pre>
 * header  u64 MAGIC, u32 VERSION, u32 n, n bytes origin address (UTF-8),
 *         u64 epoch, u64 imageLength, u64 seed = seedOf(origin, epoch)
 * image   imageLength content bytes
 * frame*  dirty:  u64 DIRTY_TAG, u64 offset, u64 length, length content bytes from image offset
 *         reinit: u64 REINIT_TAG, then a header and an image as above
 * end     u64 END_TAG, u64 number of stream bytes before END_TAG
 * </pre>
 *
 * <p>All integers are big-endian. Content bytes are a pure function of (seed, offset), so any range
 * can be produced or checked without holding the image: a multi-GiB simulated device costs no
 * memory. Dirty frames model pages re-sent during PRE_COPY; they repeat image bytes, so the loaded
 * content is the header's (origin, epoch) however many rounds ran. A reinit frame is new initial
 * data ({@code VFIO_PRECOPY_INFO_REINIT}): the device's content changed during PRE_COPY, and what
 * follows it, up to the end, belongs to its header, which must name the same origin. So a device
 * that loads a stream holds the content of its last header: only a loader that got every byte, the
 * re-sent initial data included, ends with the content of the device that saved.
 */
final class StateStreamFormat {
  static final long MAGIC = 0x5646494f2d53494dL; // "VFIO-SIM"
  static final int VERSION = 1;
  static final long DIRTY_TAG = 0x5646494f44495254L; // "VFIODIRT"
  static final long END_TAG = 0x5646494f454e4421L; // "VFIOEND!"
  static final long REINIT_TAG = 0x5646494f5245494eL; // "VFIOREIN"
  static final int MAX_ORIGIN_BYTES = 1024;
  static final int HEADER_FIXED_BYTES = 16;
  static final int HEADER_TAIL_BYTES = 24;
  static final int FRAME_HEADER_BYTES = 24;
  static final int END_BYTES = 16;

  private StateStreamFormat() {}

  static byte[] header(SimulatedState state) {
    byte[] origin = state.origin().getBytes(StandardCharsets.UTF_8);
    return ByteBuffer.allocate(headerBytes(state.origin()))
        .putLong(MAGIC)
        .putInt(VERSION)
        .putInt(origin.length)
        .put(origin)
        .putLong(state.epoch())
        .putLong(state.imageBytes())
        .putLong(state.seed())
        .array();
  }

  static int headerBytes(String origin) {
    return HEADER_FIXED_BYTES + origin.getBytes(StandardCharsets.UTF_8).length + HEADER_TAIL_BYTES;
  }

  /** The tag and header that open a reinit frame; the new image follows. */
  static byte[] reinitFrameHeader(SimulatedState state) {
    byte[] header = header(state);
    return ByteBuffer.allocate(Long.BYTES + header.length).putLong(REINIT_TAG).put(header).array();
  }

  static byte[] dirtyFrameHeader(long offset, long length) {
    return ByteBuffer.allocate(FRAME_HEADER_BYTES)
        .putLong(DIRTY_TAG)
        .putLong(offset)
        .putLong(length)
        .array();
  }

  static byte[] end(long bytesBefore) {
    return ByteBuffer.allocate(END_BYTES).putLong(END_TAG).putLong(bytesBefore).array();
  }

  /** FNV-1a over the address, mixed with the epoch: stable across JVMs, unlike hashCode(). */
  static long seedOf(String origin, long epoch) {
    long hash = 0xcbf29ce484222325L;
    for (byte b : origin.getBytes(StandardCharsets.UTF_8)) {
      hash ^= b & 0xff;
      hash *= 0x100000001b3L;
    }
    return mix(hash ^ mix(epoch));
  }

  /** Puts {@code length} content bytes starting at image {@code offset} into {@code dst}. */
  static void fill(long seed, long offset, ByteBuffer dst, int length) {
    ByteOrder order = dst.order();
    dst.order(ByteOrder.LITTLE_ENDIAN);
    long at = offset;
    long end = offset + length;
    // Byte i is byte (i % 8) of the little-endian word i / 8; whole words go in one putLong.
    while (at < end && (at & 7) != 0) {
      dst.put(byteAt(seed, at++));
    }
    while (end - at >= 8) {
      dst.putLong(word(seed, at >>> 3));
      at += 8;
    }
    while (at < end) {
      dst.put(byteAt(seed, at++));
    }
    dst.order(order);
  }

  private static byte byteAt(long seed, long offset) {
    return (byte) (word(seed, offset >>> 3) >>> ((offset & 7) * 8));
  }

  /** Counter-mode SplitMix64: random access to any word of the content. */
  private static long word(long seed, long index) {
    return mix(seed + (index + 1) * 0x9e3779b97f4a7c15L);
  }

  private static long mix(long value) {
    long z = value;
    z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
    z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
    return z ^ (z >>> 31);
  }
}
