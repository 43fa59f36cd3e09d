package dev.vfio.agent.sim;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * The device side of one saving session (PRE_COPY, PRE_COPY_P2P, then STOP_COPY, or STOP_COPY
 * alone): what it still has to offer, split the way {@code vfio_precopy_info} splits it. The
 * header and image are the initial bytes; each PRE_COPY round the device runs and re-dirties
 * {@code dirtyBytesPerRound} of its image, offered as a dirty frame once the reader has drained the
 * previous ones. Entering STOP_COPY adds the last dirtying and the end marker; after that the
 * stream ends for good.
 */
final class SaveSession {
  private final SimulatedState content;
  private final byte[] header;
  private final long dirtyBytesPerRound;
  private final long initialBytes;
  private long initialRead;
  private final Deque<DirtyFrame> frames = new ArrayDeque<>();
  private long dirtyRounds;
  private boolean dirtyDue;
  private boolean stopCopy;
  private byte[] end;
  private int endRead;
  private long produced;

  SaveSession(SimulatedState content, long dirtyBytesPerRound, boolean stopCopy) {
    this.content = content;
    this.header = StateStreamFormat.header(content);
    this.dirtyBytesPerRound = Math.min(dirtyBytesPerRound, content.imageBytes());
    this.initialBytes = header.length + content.imageBytes();
    this.stopCopy = stopCopy;
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

  long initialRemaining() {
    return initialBytes - initialRead;
  }

  long dirtyRemaining() {
    releaseDueDirt();
    long bytes = 0;
    for (DirtyFrame frame : frames) {
      bytes += frame.remaining();
    }
    return bytes;
  }

  /** What a STOP_COPY started now would still produce: what {@code MIG_DATA_SIZE} reports. */
  long stopCopyRemaining() {
    long endBytes = end == null ? StateStreamFormat.END_BYTES : end.length - endRead;
    long lastDirt = stopCopy || dirtyBytesPerRound == 0
        ? 0 : StateStreamFormat.FRAME_HEADER_BYTES + dirtyBytesPerRound;
    return initialRemaining() + dirtyRemaining() + lastDirt + endBytes;
  }

  /** Bytes produced so far, the position in the stream. */
  long produced() {
    return produced;
  }

  /**
   * Puts up to {@code max} bytes into {@code dst}. 0 means nothing is available now: the
   * permanent end in STOP_COPY, the temporary end in PRE_COPY (after which the device dirties
   * another round, offered on the next call).
   */
  int produce(ByteBuffer dst, int max) {
    releaseDueDirt();
    int n;
    if (initialRemaining() > 0) {
      n = produceInitial(dst, (int) Math.min(max, initialRemaining()));
    } else if (!frames.isEmpty()) {
      n = produceDirty(dst, max);
    } else if (stopCopy) {
      if (end == null) {
        end = StateStreamFormat.end(produced);
      }
      n = Math.min(max, end.length - endRead);
      dst.put(end, endRead, n);
      endRead += n;
    } else {
      dirtyDue = true;
      n = 0;
    }
    produced += n;
    return n;
  }

  /** Asked about what is pending with nothing pending: the device goes on dirtying. */
  void noteNothingPending() {
    if (!stopCopy && initialRemaining() == 0 && frames.isEmpty()) {
      dirtyDue = true;
    }
  }

  private int produceInitial(ByteBuffer dst, int n) {
    int fromHeader = 0;
    if (initialRead < header.length) {
      fromHeader = (int) Math.min(n, header.length - initialRead);
      dst.put(header, (int) initialRead, fromHeader);
    }
    long imageOffset = initialRead + fromHeader - header.length;
    StateStreamFormat.fill(content.seed(), imageOffset, dst, n - fromHeader);
    initialRead += n;
    return n;
  }

  private int produceDirty(ByteBuffer dst, int max) {
    DirtyFrame frame = frames.peek();
    int n = (int) Math.min(max, frame.remaining());
    int fromHeader = 0;
    if (frame.read < frame.header.length) {
      fromHeader = (int) Math.min(n, frame.header.length - frame.read);
      dst.put(frame.header, (int) frame.read, fromHeader);
    }
    long dataOffset = frame.read + fromHeader - frame.header.length;
    StateStreamFormat.fill(content.seed(), frame.offset + dataOffset, dst, n - fromHeader);
    frame.read += n;
    if (frame.remaining() == 0) {
      frames.remove();
    }
    return n;
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
    long offset = (dirtyRounds * dirtyBytesPerRound) % (content.imageBytes() - dirtyBytesPerRound + 1);
    dirtyRounds++;
    frames.add(new DirtyFrame(offset, dirtyBytesPerRound));
  }

  private static final class DirtyFrame {
    final long offset;
    final long length;
    final byte[] header;
    long read;

    DirtyFrame(long offset, long length) {
      this.offset = offset;
      this.length = length;
      this.header = StateStreamFormat.dirtyFrameHeader(offset, length);
    }

    long remaining() {
      return header.length + length - read;
    }
  }
}
