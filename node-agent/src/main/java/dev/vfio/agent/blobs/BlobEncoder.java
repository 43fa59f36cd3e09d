package dev.vfio.agent.blobs;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;

/**
 * Frames one blob on its way out, to a file ({@link BlobWriter}) or a stream
 * ({@link BlobStreamWriter}) alike, so that both carry exactly the same bytes. Memory is one chunk
 * whatever the state size. Not thread-safe.
 */
final class BlobEncoder implements AutoCloseable {
  /** Takes every remaining byte of a buffer; the buffer is reused once this returns. */
  @FunctionalInterface
  interface Output {
    void writeFully(ByteBuffer bytes) throws IOException;
  }

  private final Output out;
  private final ChunkCodec codec;
  private final ByteBuffer pending = ByteBuffer.allocateDirect(BlobFormat.MAX_CHUNK_BYTES);
  private final ByteBuffer frame = ByteBuffer.allocate(BlobFormat.CHUNK_FRAME_BYTES);
  private final MessageDigest sha256 = BlobFormat.sha256();
  private long stateBytes;
  private long storedBytes;

  /** Takes ownership of {@code codec}: {@link #close} closes it. */
  BlobEncoder(Output out, ChunkCodec codec) {
    this.out = out;
    this.codec = codec;
  }

  /** Refuses a header this agent would write but no reader of this version could read. */
  static void requireCurrentVersion(BlobHeader header) {
    if (header.formatVersion() != BlobHeader.FORMAT_VERSION) {
      throw new IllegalArgumentException("this agent writes blob format version "
          + BlobHeader.FORMAT_VERSION + ", not " + header.formatVersion());
    }
  }

  /** Writes magic, version, header length, header and header CRC. */
  void writeHeader(BlobHeader header) throws IOException {
    byte[] json = BlobFormat.JSON.writeValueAsString(header).getBytes(StandardCharsets.UTF_8);
    if (json.length > BlobFormat.MAX_HEADER_BYTES) {
      throw new IllegalArgumentException("blob header is " + json.length
          + " bytes of JSON, more than the " + BlobFormat.MAX_HEADER_BYTES + " a reader accepts");
    }
    ByteBuffer head = ByteBuffer.allocate(BlobFormat.PREFIX_BYTES + json.length + Integer.BYTES);
    head.put(BlobFormat.MAGIC).putShort((short) BlobHeader.FORMAT_VERSION).putInt(json.length)
        .put(json);
    head.putInt(BlobFormat.crc32c(head.duplicate().flip()));
    emit(head.flip());
  }

  /** Appends every remaining byte of {@code state}, of any size, and consumes it. */
  void write(ByteBuffer state) throws IOException {
    while (state.hasRemaining()) {
      int n = Math.min(state.remaining(), pending.remaining());
      pending.put(state.slice(state.position(), n));
      state.position(state.position() + n);
      if (!pending.hasRemaining()) {
        writeChunk();
      }
    }
  }

  /**
   * Writes the last chunk, the end marker and the trailer.
   *
   * @param path the blob file, or null for a stream; goes into the summary
   */
  BlobSummary finish(Path path) throws IOException {
    if (pending.position() > 0) {
      writeChunk();
    }
    byte[] digest = sha256.digest();
    ByteBuffer end = ByteBuffer.allocate(BlobFormat.END_BYTES);
    end.putInt(BlobFormat.END_MARKER).putLong(stateBytes).put(digest);
    end.putInt(BlobFormat.crc32c(end.duplicate().flip().position(Integer.BYTES)));
    emit(end.flip());
    return new BlobSummary(path, stateBytes, storedBytes, HexFormat.of().formatHex(digest));
  }

  @Override
  public void close() {
    codec.close();
  }

  private void writeChunk() throws IOException {
    pending.flip();
    sha256.update(pending.duplicate());
    stateBytes += pending.remaining();
    ByteBuffer stored = codec.encode(pending);
    frame.clear().putInt(stored.remaining()).putInt(BlobFormat.crc32c(stored)).flip();
    emit(frame);
    emit(stored);
    pending.clear();
  }

  private void emit(ByteBuffer bytes) throws IOException {
    int n = bytes.remaining();
    out.writeFully(bytes);
    storedBytes += n;
  }
}
