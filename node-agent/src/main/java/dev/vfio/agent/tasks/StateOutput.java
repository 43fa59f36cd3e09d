package dev.vfio.agent.tasks;

import dev.vfio.agent.blobs.BlobSummary;
import dev.vfio.agent.vfio.ChunkSink;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Where one device's saved state goes: a blob file (Save) or a peer agent (Send). Both carry the
 * same verified format; only the commit means something different.
 */
interface StateOutput extends AutoCloseable {
  void write(ByteBuffer chunk) throws IOException;

  /** Room of the output's own for the next state bytes ({@link ChunkSink#lend}), or null. */
  default ByteBuffer lend() throws IOException {
    return null;
  }

  /** The lent buffer holds {@code bytes} more state ({@link ChunkSink#lentFilled}). */
  default void lentFilled(ByteBuffer lent, int bytes) throws IOException {
    throw new IllegalStateException("this output lends no buffers");
  }

  /** The state is complete: make it durable (a file) or end the stream (a peer). */
  BlobSummary commit() throws IOException;

  /** Discards what was written; a reader must never take it for a complete state. */
  void abort() throws IOException;

  @Override
  void close() throws IOException;
}
