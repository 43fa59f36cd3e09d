package dev.vfio.agent.blobs;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;

/**
 * Writes one blob to a stream in the layout {@link BlobWriter} stores, so that the receiver
 * checks the framing, every chunk's CRC and the length as it would for a stored blob
 * ({@link BlobStreamReader}). The trailer carries no digest ({@link BlobDigest#NONE}): the stream
 * runs over mutual TLS, which authenticates every byte, and a SHA-256 on both ends would cost more
 * CPU than TLS itself (docs/decisions/0004-no-digest-on-the-stream.md). Memory is a few chunks
 * whatever the state size. Not thread-safe.
 *
 * <p>The stream stays open and belongs to the caller. A writer closed without {@link #finish}
 * writes nothing more: once the caller closes the connection, the receiver finds the blob
 * truncated, which is how a sender that failed midway tells it so.
 */
public final class BlobStreamWriter implements AutoCloseable {
  /**
   * Coalesces the 8-byte chunk frames with their chunks, so that a TLS connection sends full
   * records rather than one tiny record per frame.
   */
  private static final int BUFFER_BYTES = 64 * 1024;

  /**
   * Bounds each copy out of a direct buffer, which a stream cannot take as it is: zstd's output.
   * Uncompressed chunks are on the heap and go to the stream without a copy.
   */
  private static final int COPY_BYTES = 16 * 1024;

  private enum Stage { OPEN, FAILED, FINISHED, CLOSED }

  private final OutputStream out;
  private final BlobEncoder encoder;
  private Stage stage = Stage.OPEN;

  private BlobStreamWriter(OutputStream out, BlobCompression compression) {
    this.out = out;
    byte[] copy = new byte[COPY_BYTES];
    this.encoder = new BlobEncoder(bytes -> {
      if (bytes.hasArray()) {
        out.write(bytes.array(), bytes.arrayOffset() + bytes.position(), bytes.remaining());
        bytes.position(bytes.limit());
        return;
      }
      while (bytes.hasRemaining()) {
        int n = Math.min(copy.length, bytes.remaining());
        bytes.get(copy, 0, n);
        out.write(copy, 0, n);
      }
    }, compression, BlobDigest.NONE, true);
  }

  /**
   * Starts a blob on {@code out} and writes its header.
   *
   * @throws IllegalArgumentException if the header is not of {@link BlobHeader#FORMAT_VERSION}
   */
  public static BlobStreamWriter start(OutputStream out, BlobHeader header) throws IOException {
    BlobEncoder.requireCurrentVersion(header);
    BlobStreamWriter writer =
        new BlobStreamWriter(new BufferedOutputStream(out, BUFFER_BYTES), header.compression());
    try {
      writer.encoder.writeHeader(header);
      return writer;
    } catch (IOException | RuntimeException e) {
      writer.close();
      throw e;
    }
  }

  /** Appends every remaining byte of {@code state}, of any size, and consumes it. */
  public void write(ByteBuffer state) throws IOException {
    requireOpen();
    encoder.write(state);
  }

  /** Room in the chunk being filled, for state read straight into it ({@link BlobWriter#lend}). */
  public ByteBuffer lend() throws IOException {
    requireOpen();
    return encoder.lend();
  }

  /** The buffer {@link #lend} returned holds more state, up to its position. */
  public void lentFilled(ByteBuffer lent) throws IOException {
    requireOpen();
    encoder.lentFilled(lent);
  }

  /**
   * Ends the blob with the end marker and the trailer and flushes the stream, which stays open.
   *
   * @return what was sent; its path is null
   */
  public BlobSummary finish() throws IOException {
    requireOpen();
    try {
      BlobSummary summary = encoder.finish(null);
      out.flush();
      stage = Stage.FINISHED;
      return summary;
    } catch (IOException | RuntimeException e) {
      stage = Stage.FAILED;
      throw e;
    } finally {
      encoder.close();
    }
  }

  /**
   * Releases the compressor. Does not close the stream and, unless {@link #finish} returned,
   * leaves the blob unfinished.
   */
  @Override
  public void close() {
    if (stage != Stage.FINISHED) {
      stage = Stage.CLOSED;
    }
    encoder.close();
  }

  private void requireOpen() {
    if (stage == Stage.OPEN && encoder.failed()) {
      throw new IllegalStateException("blob stream writer failed; close it");
    }
    if (stage != Stage.OPEN) {
      throw new IllegalStateException("blob stream writer is " + stage);
    }
  }
}
