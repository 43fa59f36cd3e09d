package dev.vfio.agent.tasks;

import dev.vfio.agent.blobs.BlobSummary;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Where one device's saved state goes: a blob file (Save) or a peer agent (Send). Both carry the
 * same verified format; only the commit means something different.
 */
interface StateOutput extends AutoCloseable {
  void write(ByteBuffer chunk) throws IOException;

  /** The state is complete: make it durable (a file) or end the stream (a peer). */
  BlobSummary commit() throws IOException;

  /** Discards what was written; a reader must never take it for a complete state. */
  void abort() throws IOException;

  @Override
  void close() throws IOException;
}
