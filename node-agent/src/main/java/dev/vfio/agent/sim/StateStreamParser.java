package dev.vfio.agent.sim;

import static dev.vfio.agent.sim.StateStreamFormat.DIRTY_TAG;
import static dev.vfio.agent.sim.StateStreamFormat.END_TAG;
import static dev.vfio.agent.sim.StateStreamFormat.HEADER_FIXED_BYTES;
import static dev.vfio.agent.sim.StateStreamFormat.HEADER_TAIL_BYTES;
import static dev.vfio.agent.sim.StateStreamFormat.MAGIC;
import static dev.vfio.agent.sim.StateStreamFormat.MAX_ORIGIN_BYTES;
import static dev.vfio.agent.sim.StateStreamFormat.REINIT_TAG;
import static dev.vfio.agent.sim.StateStreamFormat.VERSION;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * Checks a state stream as it arrives, in pieces of any size, holding only a small window: a
 * RESUMING device of many GiB must not buffer what it is sent. The first problem is remembered and
 * later bytes are ignored, because a device reports bad data only when it leaves RESUMING.
 */
final class StateStreamParser {
  private enum Part {
    HEADER_FIXED,
    ORIGIN,
    HEADER_TAIL,
    IMAGE,
    FRAME_TAG,
    DIRTY_RANGE,
    DIRTY_DATA,
    END_COUNT,
    DONE
  }

  private static final int COMPARE_WINDOW = 64 * 1024;

  private Part part = Part.HEADER_FIXED;
  private final ByteBuffer field = ByteBuffer.allocate(MAX_ORIGIN_BYTES);
  private final ByteBuffer expected = ByteBuffer.allocate(COMPARE_WINDOW);
  private String problem;
  private long consumed;
  private long frameTagAt;
  private String origin;
  private long epoch;
  private long imageBytes;
  private long seed;

  /** Where in the image the bytes now arriving belong, and how many are still due. */
  private long contentOffset;

  private long contentRemaining;

  StateStreamParser() {
    startField(HEADER_FIXED_BYTES, Part.HEADER_FIXED);
  }

  /** Consumes all of {@code src}. */
  void accept(ByteBuffer src) {
    while (src.hasRemaining() && problem == null) {
      switch (part) {
        case HEADER_FIXED -> {
          if (gather(src)) {
            readFixedHeader();
          }
        }
        case ORIGIN -> {
          if (gather(src)) {
            readOrigin(StandardCharsets.UTF_8.decode(field).toString());
          }
        }
        case HEADER_TAIL -> {
          if (gather(src)) {
            readHeaderTail();
          }
        }
        case IMAGE, DIRTY_DATA -> compareContent(src);
        case FRAME_TAG -> {
          if (gather(src)) {
            readFrameTag();
          }
        }
        case DIRTY_RANGE -> {
          if (gather(src)) {
            readDirtyRange();
          }
        }
        case END_COUNT -> {
          if (gather(src)) {
            long count = field.getLong();
            if (count != frameTagAt) {
              fail("end marker counts " + count + " bytes, the stream had " + frameTagAt);
            } else {
              part = Part.DONE;
            }
          }
        }
        case DONE -> fail("trailing bytes after the end marker at offset " + consumed);
      }
    }
    // Bytes after a problem are accepted and dropped, as a device keeps taking writes.
    consumed += src.remaining();
    src.position(src.limit());
  }

  /** How many bytes the stream has brought so far. */
  long consumed() {
    return consumed;
  }

  /** The state the stream carried, or the first problem found. */
  SimulatedState finish() throws MalformedStateException {
    if (problem != null) {
      throw new MalformedStateException(problem);
    }
    if (part != Part.DONE) {
      throw new MalformedStateException(
          "stream truncated after " + consumed + " bytes, inside the " + describe(part));
    }
    return new SimulatedState(origin, epoch, imageBytes);
  }

  private void readFixedHeader() {
    long magic = field.getLong();
    int version = field.getInt();
    int originBytes = field.getInt();
    if (magic != MAGIC) {
      fail(String.format("not a simulated device state: magic %016x", magic));
    } else if (version != VERSION) {
      fail("unsupported stream version " + version);
    } else if (originBytes <= 0 || originBytes > MAX_ORIGIN_BYTES) {
      fail("origin address length " + originBytes + " out of range");
    } else {
      startField(originBytes, Part.ORIGIN);
    }
  }

  /** The first header names the origin; a reinit frame's header must name the same. */
  private void readOrigin(String named) {
    if (origin != null && !origin.equals(named)) {
      fail("reinit frame holds content of " + named + " in a stream of " + origin);
    } else {
      origin = named;
      startField(HEADER_TAIL_BYTES, Part.HEADER_TAIL);
    }
  }

  private void readHeaderTail() {
    epoch = field.getLong();
    imageBytes = field.getLong();
    seed = field.getLong();
    if (imageBytes < 0) {
      fail("negative image length " + imageBytes);
    } else if (seed != StateStreamFormat.seedOf(origin, epoch)) {
      fail("header seed does not match origin " + origin + " and epoch " + epoch);
    } else {
      contentOffset = 0;
      contentRemaining = imageBytes;
      part = Part.IMAGE;
      if (contentRemaining == 0) {
        startField(8, Part.FRAME_TAG);
      }
    }
  }

  private void readFrameTag() {
    long tag = field.getLong();
    if (tag == DIRTY_TAG) {
      startField(16, Part.DIRTY_RANGE);
    } else if (tag == REINIT_TAG) {
      // New initial data: a header and an image again, which replace what came before.
      startField(HEADER_FIXED_BYTES, Part.HEADER_FIXED);
    } else if (tag == END_TAG) {
      startField(8, Part.END_COUNT);
    } else {
      fail(String.format("unknown frame tag %016x at offset %d", tag, frameTagAt));
    }
  }

  private void readDirtyRange() {
    long offset = field.getLong();
    long length = field.getLong();
    if (offset < 0 || length <= 0 || offset > imageBytes - length) {
      fail(
          "dirty frame ["
              + offset
              + ", +"
              + length
              + ") outside the "
              + imageBytes
              + "-byte image");
    } else {
      contentOffset = offset;
      contentRemaining = length;
      part = Part.DIRTY_DATA;
    }
  }

  private void compareContent(ByteBuffer src) {
    int n = (int) Math.min(Math.min(src.remaining(), contentRemaining), COMPARE_WINDOW);
    expected.clear();
    StateStreamFormat.fill(seed, contentOffset, expected, n);
    expected.flip();
    int mismatch = expected.mismatch(src.slice(src.position(), n));
    if (mismatch >= 0) {
      fail(
          "content differs at image offset "
              + (contentOffset + mismatch)
              + " (stream offset "
              + (consumed + mismatch)
              + ")");
      return;
    }
    src.position(src.position() + n);
    consumed += n;
    contentOffset += n;
    contentRemaining -= n;
    if (contentRemaining == 0) {
      startField(8, Part.FRAME_TAG);
    }
  }

  private void startField(int length, Part next) {
    field.clear().limit(length);
    if (next == Part.FRAME_TAG) {
      frameTagAt = consumed;
    }
    part = next;
  }

  /** Copies from {@code src} into the field; true once the field is complete. */
  private boolean gather(ByteBuffer src) {
    int n = Math.min(src.remaining(), field.remaining());
    field.put(src.slice(src.position(), n));
    src.position(src.position() + n);
    consumed += n;
    if (field.hasRemaining()) {
      return false;
    }
    field.flip();
    return true;
  }

  private void fail(String message) {
    problem = message;
  }

  private static String describe(Part part) {
    return switch (part) {
      case HEADER_FIXED, ORIGIN, HEADER_TAIL -> "header";
      case IMAGE -> "image";
      case FRAME_TAG, DIRTY_RANGE, DIRTY_DATA -> "frames after the image";
      case END_COUNT -> "end marker";
      case DONE -> "end";
    };
  }
}
