package dev.vfio.agent.vfio;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Where a save stream goes, one filled buffer at a time. The buffer is reused for the next chunk
 * as soon as {@link #accept} returns, so a sink must consume or copy it before returning.
 *
 * <p>A sink that keeps buffers of its own can {@link #lend} one instead, and the state is read
 * straight into it: at disk speed, a copy of every byte is worth saving.
 */
@FunctionalInterface
public interface ChunkSink {
  /** {@code chunk} holds the bytes from its position to its limit. */
  void accept(ByteBuffer chunk) throws IOException;

  /**
   * A buffer of the sink's own that the next bytes are read into, from its position to its limit,
   * or null (the default) to have them read into the reader's buffer and passed to
   * {@link #accept}. A lent buffer goes back through {@link #lentFilled}.
   */
  default ByteBuffer lend() throws IOException {
    return null;
  }

  /** The buffer {@link #lend} returned now holds {@code bytes} more, before its position. */
  default void lentFilled(ByteBuffer lent, int bytes) throws IOException {
    throw new IllegalStateException("this sink lends no buffers");
  }
}
