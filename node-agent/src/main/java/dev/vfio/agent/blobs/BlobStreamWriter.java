package dev.vfio.agent.blobs;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;

/**
 * Writes one blob to a stream in the layout {@link BlobWriter} stores, the {@link BlobOutput} of a
 * live migration, so that the receiver checks the framing, every chunk's CRC and the length as it
 * would for a stored blob ({@link BlobStreamReader}). The trailer carries no digest ({@link
 * BlobDigest#NONE}): the stream runs over mutual TLS, which authenticates every byte, and a SHA-256
 * on both ends would cost more CPU than TLS itself (docs/decisions/0004-blob-digest.md). Memory is
 * a few chunks whatever the state size. Not thread-safe.
 *
 * <p>The stream belongs to the writer. {@link #commit} flushes it and leaves it open, so that the
 * caller can wait on the same connection for the receiver's answer; {@link #close} closes it. A
 * writer aborted or closed before it committed cuts the stream off mid-blob: the receiver finds the
 * blob truncated, which is how a sender that failed midway tells it so.
 */
public final class BlobStreamWriter implements BlobOutput {
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

  private enum Stage {
    OPEN,
    FAILED,
    COMMITTED,
    ABORTED
  }

  /** The caller's stream, closed unbuffered so that an abort sends nothing more. */
  private final OutputStream stream;

  private final OutputStream out;
  private final BlobEncoder encoder;
  private Stage stage = Stage.OPEN;

  private BlobStreamWriter(OutputStream stream, BlobCompression compression) {
    this.stream = stream;
    this.out = new BufferedOutputStream(stream, BUFFER_BYTES);
    byte[] copy = new byte[COPY_BYTES];
    this.encoder =
        new BlobEncoder(
            bytes -> {
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
            },
            compression,
            BlobDigest.NONE,
            true,
            null);
  }

  /**
   * Starts a blob on {@code out}, which the writer owns from now on (also when this fails), and
   * writes its header.
   *
   * @throws IllegalArgumentException if the header is not of {@link BlobHeader#FORMAT_VERSION}
   */
  public static BlobStreamWriter start(OutputStream out, BlobHeader header) throws IOException {
    BlobStreamWriter writer;
    try {
      BlobEncoder.requireCurrentVersion(header);
      writer = new BlobStreamWriter(out, header.compression());
    } catch (RuntimeException e) {
      closeAfter(out, e);
      throw e;
    }
    try {
      writer.encoder.writeHeader(header);
      return writer;
    } catch (IOException | RuntimeException e) {
      writer.abortAfter(e);
      throw e;
    }
  }

  @Override
  public void write(ByteBuffer state) throws IOException {
    requireOpen();
    encoder.write(state);
  }

  @Override
  public ByteBuffer lend() throws IOException {
    requireOpen();
    return encoder.lend();
  }

  @Override
  public void lentFilled(ByteBuffer lent) throws IOException {
    requireOpen();
    encoder.lentFilled(lent);
  }

  /**
   * Ends the blob with the end marker and the trailer and flushes the stream, which stays open
   * until {@link #close}.
   *
   * @return what was sent; its path is null
   */
  @Override
  public BlobSummary commit() throws IOException {
    requireOpen();
    try {
      BlobSummary summary = encoder.finish(null);
      out.flush();
      stage = Stage.COMMITTED;
      return summary;
    } catch (IOException | RuntimeException e) {
      stage = Stage.FAILED;
      throw e;
    } finally {
      encoder.close();
    }
  }

  /**
   * Cuts the stream off mid-blob, without flushing what is buffered. Does nothing once committed.
   */
  @Override
  public void abort() throws IOException {
    if (stage == Stage.COMMITTED || stage == Stage.ABORTED) {
      return;
    }
    stage = Stage.ABORTED;
    encoder.close();
    stream.close();
  }

  /** Closes the stream; a blob not committed is cut off ({@link #abort}). */
  @Override
  public void close() throws IOException {
    if (stage == Stage.COMMITTED) {
      stream.close();
    } else {
      abort();
    }
  }

  private void abortAfter(Exception cause) {
    try {
      abort();
    } catch (IOException e) {
      cause.addSuppressed(e);
    }
  }

  private static void closeAfter(OutputStream out, Exception cause) {
    try {
      out.close();
    } catch (IOException e) {
      cause.addSuppressed(e);
    }
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
