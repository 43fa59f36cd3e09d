package dev.vfio.agent.sim;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * The device side of one saving session (PRE_COPY, PRE_COPY_P2P, then STOP_COPY, or STOP_COPY
 * alone): the stream it still has to offer, as a queue of segments, split the way {@code
 * vfio_precopy_info} splits it. The header and image are the initial bytes; each PRE_COPY round the
 * device runs and re-dirties {@code dirtyBytesPerRound} of its image, offered as a dirty frame once
 * the reader has drained the previous ones. A {@link #reinit} queues new initial data. Entering
 * STOP_COPY adds the last dirtying and the end marker; after that the stream ends for good.
 */
final class SaveSession {
  private final long dirtyBytesPerRound;
  private SimulatedState content;
  private final Deque<Segment> queue = new ArrayDeque<>();
  private long dirtyRounds;
  private boolean dirtyDue;
  private boolean stopCopy;
  private boolean ended;
  private long produced;
  private int precopyInfoCalls;

  SaveSession(SimulatedState content, long dirtyBytesPerRound, boolean stopCopy) {
    this.content = content;
    this.dirtyBytesPerRound = Math.min(dirtyBytesPerRound, content.imageBytes());
    this.stopCopy = stopCopy;
    queue.add(Segment.image(StateStreamFormat.header(content), content, true));
  }

  /** PRE_COPY(_P2P) → STOP_COPY: the session continues, the device stops dirtying. */
  void enterStopCopy() {
    if (!stopCopy) {
      // The device ran between the last PRE_COPY round and the stop; that last dirtying is what
      // makes STOP_COPY carry data even after a fully drained PRE_COPY.
      dirtyDue = false;
      addDirtyFrame();
    }
    stopCopy = true;
  }

  /**
   * The device's initial data changed to {@code changed} during PRE_COPY: a reinit frame with its
   * header and whole image goes on the stream after what is still queued, and later dirty frames
   * come from it. Under precopy info v2 ({@code asInitial}) it is initial data, and so is
   * everything queued before it, which the reader must get through first (mlx5 counts it the same
   * way); dirty bytes start again from 0. Otherwise it is reported as dirty data: a v1 reader's
   * initial bytes only ever go down.
   */
  void reinit(SimulatedState changed, boolean asInitial) {
    content = changed;
    queue.add(Segment.image(StateStreamFormat.reinitFrameHeader(changed), changed, asInitial));
  }

  /**
   * Counts a {@code VFIO_MIG_GET_PRECOPY_INFO} on this session; returns which one it is, from 1.
   */
  int countPrecopyInfo() {
    return ++precopyInfoCalls;
  }

  /** Bytes up to the end of the last initial segment still queued. */
  long initialRemaining() {
    long bytes = 0;
    long upToInitial = 0;
    for (Segment segment : queue) {
      bytes += segment.remaining();
      if (segment.initial) {
        upToInitial = bytes;
      }
    }
    return upToInitial;
  }

  long dirtyRemaining() {
    releaseDueDirt();
    long bytes = 0;
    for (Segment segment : queue) {
      bytes += segment.remaining();
    }
    return bytes - initialRemaining();
  }

  /** What a STOP_COPY started now would still produce: what {@code MIG_DATA_SIZE} reports. */
  long stopCopyRemaining() {
    long endBytes = ended ? 0 : StateStreamFormat.END_BYTES;
    long lastDirt =
        stopCopy || dirtyBytesPerRound == 0
            ? 0
            : StateStreamFormat.FRAME_HEADER_BYTES + dirtyBytesPerRound;
    return initialRemaining() + dirtyRemaining() + lastDirt + endBytes;
  }

  /** Bytes produced so far, the position in the stream. */
  long produced() {
    return produced;
  }

  /**
   * Puts up to {@code max} bytes into {@code dst}. 0 means nothing is available now: the permanent
   * end in STOP_COPY, the temporary end in PRE_COPY (after which the device dirties another round,
   * offered on the next call).
   */
  int produce(ByteBuffer dst, int max) {
    releaseDueDirt();
    if (queue.isEmpty() && stopCopy && !ended) {
      ended = true;
      queue.add(Segment.bytes(StateStreamFormat.end(produced)));
    }
    if (queue.isEmpty()) {
      dirtyDue = !stopCopy;
      return 0;
    }
    Segment segment = queue.peek();
    int n = segment.produce(dst, max);
    if (segment.remaining() == 0) {
      queue.remove();
    }
    produced += n;
    return n;
  }

  /** Asked about what is pending with nothing pending: the device goes on dirtying. */
  void noteNothingPending() {
    if (!stopCopy && queue.isEmpty()) {
      dirtyDue = true;
    }
  }

  private void releaseDueDirt() {
    if (dirtyDue) {
      dirtyDue = false;
      addDirtyFrame();
    }
  }

  private void addDirtyFrame() {
    if (dirtyBytesPerRound <= 0) {
      return;
    }
    // Successive rounds walk through the image so that every part of it gets re-sent in turn.
    long offset =
        (dirtyRounds * dirtyBytesPerRound) % (content.imageBytes() - dirtyBytesPerRound + 1);
    dirtyRounds++;
    queue.add(
        new Segment(
            StateStreamFormat.dirtyFrameHeader(offset, dirtyBytesPerRound),
            content.seed(),
            offset,
            dirtyBytesPerRound,
            false));
  }

  /**
   * A piece of the stream: some bytes of its own (a header, a frame header, the end marker), then
   * {@code length} content bytes of the image with {@code seed} from {@code offset}.
   */
  private static final class Segment {
    final byte[] prefix;
    final long seed;
    final long offset;
    final long length;

    /** Whether {@code vfio_precopy_info} counts it as initial bytes. */
    final boolean initial;

    long read;

    Segment(byte[] prefix, long seed, long offset, long length, boolean initial) {
      this.prefix = prefix;
      this.seed = seed;
      this.offset = offset;
      this.length = length;
      this.initial = initial;
    }

    /** {@code prefix}, then the whole image of {@code state}. */
    static Segment image(byte[] prefix, SimulatedState state, boolean initial) {
      return new Segment(prefix, state.seed(), 0, state.imageBytes(), initial);
    }

    static Segment bytes(byte[] bytes) {
      return new Segment(bytes, 0, 0, 0, false);
    }

    long remaining() {
      return prefix.length + length - read;
    }

    int produce(ByteBuffer dst, int max) {
      int n = (int) Math.min(max, remaining());
      int fromPrefix = 0;
      if (read < prefix.length) {
        fromPrefix = (int) Math.min(n, prefix.length - read);
        dst.put(prefix, (int) read, fromPrefix);
      }
      long contentOffset = read + fromPrefix - prefix.length;
      StateStreamFormat.fill(seed, offset + contentOffset, dst, n - fromPrefix);
      read += n;
      return n;
    }
  }
}
