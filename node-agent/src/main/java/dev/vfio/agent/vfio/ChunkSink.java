package dev.vfio.agent.vfio;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Where device state goes, one chunk at a time: out of a saving device ({@link
 * MigrationStateMachine#readToEnd}) into a blob, or out of a blob into a resuming device. The
 * buffer is reused for the next chunk as soon as {@link #write} returns, so a sink must consume or
 * copy it before returning.
 *
 * <p>A sink that keeps buffers of its own can {@link #lend} one instead, and the state is read
 * straight into it: at disk speed, a copy of every byte is worth saving. Only a reader of a device
 * asks for a loan; a blob reader always calls {@link #write}.
 */
@FunctionalInterface
public interface ChunkSink {
  /** Takes the bytes of {@code chunk} from its position to its limit. */
  void write(ByteBuffer chunk) throws IOException;

  /**
   * A buffer of the sink's own that the next bytes are read into, from its position to its limit,
   * or null (the default) to have them read into the reader's buffer and passed to {@link #write}.
   * A lent buffer goes back through {@link #lentFilled}.
   */
  default ByteBuffer lend() throws IOException {
    return null;
  }

  /** The buffer {@link #lend} returned now holds more state, up to its position. */
  default void lentFilled(ByteBuffer lent) throws IOException {
    throw new IllegalStateException("this sink lends no buffers");
  }
}
