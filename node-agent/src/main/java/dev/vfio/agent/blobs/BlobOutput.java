package dev.vfio.agent.blobs;

import dev.vfio.agent.vfio.ChunkSink;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Where one device's saved state goes, as one blob: a file on a storage claim ({@link BlobWriter})
 * or a stream to the peer agent ({@link BlobStreamWriter}). Both carry the same verified format and
 * lend the chunk they are filling, so a device is read straight into them; only what {@link
 * #commit} and {@link #abort} do differs. Not thread-safe.
 */
public interface BlobOutput extends ChunkSink, AutoCloseable {
  /** Appends every remaining byte of {@code state}, of any size, and consumes it. */
  @Override
  void write(ByteBuffer state) throws IOException;

  /**
   * Room in the chunk being filled, for state read straight into it rather than passed to {@link
   * #write} and copied; it goes back through {@link #lentFilled} before anything else.
   */
  @Override
  ByteBuffer lend() throws IOException;

  @Override
  void lentFilled(ByteBuffer lent) throws IOException;

  /**
   * The state is complete: a file becomes durable under its blob name, a stream gets its end marker
   * and trailer (and stays open for the receiver's answer).
   *
   * @return what was written
   */
  BlobSummary commit() throws IOException;

  /**
   * Drops the blob so that no reader takes it for a complete state: a temporary file is deleted, a
   * stream is cut off, which its receiver finds truncated. Does nothing once committed.
   */
  void abort() throws IOException;

  /** Aborts unless committed, and releases everything the output holds. */
  @Override
  void close() throws IOException;
}
