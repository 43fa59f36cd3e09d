package dev.vfio.agent.blobs;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;

/**
 * Frames one blob on its way out, to a file ({@link BlobWriter}) or a stream
 * ({@link BlobStreamWriter}) alike, so that both carry exactly the same bytes. Memory is two
 * chunks whatever the state size. Not thread-safe.
 *
 * <p>Hashing a chunk (SHA-256 at about 1.6 GiB/s a core) costs as much as reading it from the
 * device or writing it to disk, so it runs on another thread while the caller fills the next
 * chunk: a full chunk is hashed, encoded and CRC'd in the background, and emitted by the caller
 * when the next one is full. One chunk at a time is in the background, so the digest, the codec
 * and the output are never used by two threads at once; emitting stays on the caller's thread,
 * so output errors surface in {@link #write} or {@link #finish} as before, at most one chunk
 * later.
 */
final class BlobEncoder implements AutoCloseable {
  /** A chunk ready to emit: its stored bytes and their CRC. */
  private record Encoded(ByteBuffer stored, int crc) {}

  /** Takes every remaining byte of a buffer; the buffer is reused once this returns. */
  @FunctionalInterface
  interface Output {
    void writeFully(ByteBuffer bytes) throws IOException;
  }

  private final Output out;
  private final ChunkCodec codec;
  /** The chunk the caller fills; its twin is in the background or free. */
  private ByteBuffer pending = ByteBuffer.allocateDirect(BlobFormat.MAX_CHUNK_BYTES);
  private ByteBuffer spare = ByteBuffer.allocateDirect(BlobFormat.MAX_CHUNK_BYTES);
  private Future<Encoded> inFlight;
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
        handOff();
      }
    }
  }

  /**
   * Writes the last chunk, the end marker and the trailer.
   *
   * @param path the blob file, or null for a stream; goes into the summary
   */
  BlobSummary finish(Path path) throws IOException {
    emitInFlight();
    if (pending.position() > 0) {
      pending.flip();
      stateBytes += pending.remaining();
      emitChunk(encode(pending));
      pending.clear();
    }
    byte[] digest = sha256.digest();
    ByteBuffer end = ByteBuffer.allocate(BlobFormat.END_BYTES);
    end.putInt(BlobFormat.END_MARKER).putLong(stateBytes).put(digest);
    end.putInt(BlobFormat.crc32c(end.duplicate().flip().position(Integer.BYTES)));
    emit(end.flip());
    return new BlobSummary(path, stateBytes, storedBytes, HexFormat.of().formatHex(digest));
  }

  /** Waits for the chunk in the background, whose work is bounded, and frees the codec. */
  @Override
  public void close() {
    try {
      awaitInFlight();
    } catch (IOException | RuntimeException e) {
      // The blob is abandoned; only the codec must not be freed under a running chunk.
    }
    codec.close();
  }

  /**
   * The filled chunk goes to the background; the previous one, done there by now or soon, is
   * emitted first, which frees its buffer for the caller to fill next.
   */
  private void handOff() throws IOException {
    emitInFlight();
    ByteBuffer full = pending.flip();
    stateBytes += full.remaining();
    pending = spare.clear();
    spare = full;
    inFlight = ChunkHashing.THREADS.submit(() -> encode(full));
  }

  private Encoded encode(ByteBuffer state) {
    sha256.update(state.duplicate());
    ByteBuffer stored = codec.encode(state);
    return new Encoded(stored, BlobFormat.crc32c(stored));
  }

  private void emitInFlight() throws IOException {
    Encoded encoded = awaitInFlight();
    if (encoded != null) {
      emitChunk(encoded);
    }
  }

  private Encoded awaitInFlight() throws IOException {
    Future<Encoded> running = inFlight;
    inFlight = null;
    if (running == null) {
      return null;
    }
    boolean interrupted = false;
    try {
      while (true) {
        try {
          return running.get();
        } catch (InterruptedException e) {
          // The chunk uses the digest and the codec: it must end before either is touched again.
          interrupted = true;
        }
      }
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RuntimeException runtime) {
        throw runtime;
      }
      throw new IllegalStateException("encoding a chunk failed", e.getCause());
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private void emitChunk(Encoded encoded) throws IOException {
    frame.clear().putInt(encoded.stored().remaining()).putInt(encoded.crc()).flip();
    emit(frame);
    emit(encoded.stored());
  }

  private void emit(ByteBuffer bytes) throws IOException {
    int n = bytes.remaining();
    out.writeFully(bytes);
    storedBytes += n;
  }
}
