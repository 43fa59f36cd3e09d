package dev.vfio.agent.blobs;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HexFormat;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;

/**
 * Frames one blob on its way out, to a file ({@link BlobWriter}) or a stream ({@link
 * BlobStreamWriter}) alike. Memory is at most {@link #IN_FLIGHT} + 1 chunks whatever the state
 * size. Not thread-safe.
 *
 * <p>Hashing a chunk (SHA-256 at about 1.6 GiB/s a core) costs as much as reading it from the
 * device or writing it to disk, so full chunks are hashed, encoded and CRC'd on other threads
 * ({@link ChunkHashing}) while the caller fills the next one; with the digest of version 2 the
 * chunks do not depend on each other, so several are worked on at once. A chunk with nothing but
 * its CRC to compute is encoded on the caller's thread. Chunks are then written out on those other
 * threads too, one at a time and in chunk order, so that the caller reads the device while the
 * previous chunk goes to disk or to the socket; output errors surface in {@link #write}, {@link
 * #lend} or {@link #finish}, at most {@link #IN_FLIGHT} chunks later.
 *
 * <p>Past 300 lines because it writes the whole format of docs/blob-format.md, frame by frame, with
 * its seal; {@link BlobDecoder} reads it back and is kept to the same shape to be compared.
 */
final class BlobEncoder implements AutoCloseable {
  /** Chunks in the background at once: every core can hash one, and memory stays bounded. */
  static final int IN_FLIGHT = Math.max(2, Math.min(4, Runtime.getRuntime().availableProcessors()));

  /** Takes every remaining byte of a buffer; the buffer is reused once this returns. */
  @FunctionalInterface
  interface Output {
    void writeFully(ByteBuffer bytes) throws IOException;
  }

  /**
   * A chunk buffer with the codec that encodes it and the room its seal encrypts in; slots are made
   * as they are first needed.
   */
  private record Slot(ByteBuffer state, ChunkCodec codec, CipherSpace space) {}

  /**
   * A chunk ready to emit: its stored bytes, their CRC, what the digest folds for it, and its tag
   * (null when unsealed).
   */
  private record Encoded(ByteBuffer stored, int crc, byte[] chunkHash, byte[] tag) {}

  /** A chunk in the background, and when it has been written out. */
  private record Running(Slot slot, CompletableFuture<Void> emitted) {}

  private final Output out;
  private final BlobCompression compression;
  private final StateDigest digest;
  private final BlobDigest digestKind;

  /** The blob's seal and key, or null for an unsealed blob. */
  private final BlobKey.Sealing sealing;

  /** Tags the chunks once the header is written, whose hash every tag covers. */
  private ChunkSeal seal;

  /** Heap buffers let a stream take a plain chunk without a copy; a file takes direct ones. */
  private final boolean heap;

  /** Whether chunks are encoded on the caller's thread: when there is nothing but a CRC to do. */
  private final boolean inline;

  private final ByteBuffer frame =
      ByteBuffer.allocate(BlobFormat.CHUNK_FRAME_BYTES + ChunkSeal.TAG_BYTES);
  private final Deque<Slot> free = new ArrayDeque<>();
  private final Deque<Running> running = new ArrayDeque<>();
  private int slots;

  /** The last chunk's write: the next one starts after it, so chunks go out in order. */
  private CompletableFuture<Void> lastEmitted = CompletableFuture.completedFuture(null);

  private Slot filling;
  private long stateBytes;
  private long storedBytes;
  private long chunks;

  /** Set once a step failed: the blob is abandoned, and every later step is refused. */
  private boolean failed;

  /**
   * @param heap whether chunk buffers are on the heap (for a stream) rather than direct (for a file
   *     channel); zstd always works on direct ones
   * @param sealing the blob's seal and key ({@link BlobKey#newSeal}); null for an unsealed blob
   */
  BlobEncoder(
      Output out,
      BlobCompression compression,
      BlobDigest digest,
      boolean heap,
      BlobKey.Sealing sealing) {
    this.out = out;
    this.compression = compression;
    this.digestKind = digest;
    this.sealing = sealing;
    this.digest = StateDigest.of(digest);
    if (!this.digest.parallel()) {
      throw new IllegalArgumentException(
          "a writer hashes chunks in parallel; "
              + digest
              + " is read only, for blobs of format version 1");
    }
    this.heap = heap && compression == BlobCompression.NONE;
    // A CRC alone runs at tens of GiB/s: handing the chunk to another core would cost more.
    this.inline =
        digest == BlobDigest.NONE && compression == BlobCompression.NONE && sealing == null;
  }

  /** Refuses a header this agent would write but no reader of this version could read. */
  static void requireCurrentVersion(BlobHeader header) {
    if (header.formatVersion() != BlobHeader.FORMAT_VERSION) {
      throw new IllegalArgumentException(
          "this agent writes blob format version "
              + BlobHeader.FORMAT_VERSION
              + ", not "
              + header.formatVersion());
    }
  }

  /** Writes magic, version, header length, header (naming this encoder's digest) and CRC. */
  void writeHeader(BlobHeader header) throws IOException {
    guarded(
        () -> {
          emitHeader(header);
          return null;
        });
  }

  private void emitHeader(BlobHeader header) throws IOException {
    byte[] json =
        BlobFormat.JSON
            .writeValueAsString(
                header
                    .withDigest(digestKind)
                    .withSeal(sealing == null ? BlobSeal.NONE : sealing.seal()))
            .getBytes(StandardCharsets.UTF_8);
    if (json.length > BlobFormat.MAX_HEADER_BYTES) {
      throw new IllegalArgumentException(
          "blob header is "
              + json.length
              + " bytes of JSON, more than the "
              + BlobFormat.MAX_HEADER_BYTES
              + " a reader accepts");
    }
    ByteBuffer head = ByteBuffer.allocate(BlobFormat.PREFIX_BYTES + json.length + Integer.BYTES);
    head.put(BlobFormat.MAGIC)
        .putShort((short) BlobHeader.FORMAT_VERSION)
        .putInt(json.length)
        .put(json);
    if (sealing != null) {
      MessageDigest headHash = BlobFormat.sha256();
      headHash.update(head.duplicate().flip());
      seal = ChunkSeal.of(sealing.seal().authentication(), sealing.blobKey(), headHash.digest());
    }
    head.putInt(BlobFormat.crc32c(head.duplicate().flip()));
    emit(head.flip());
  }

  /** Appends every remaining byte of {@code state}, of any size, and consumes it. */
  void write(ByteBuffer state) throws IOException {
    guarded(
        () -> {
          append(state);
          return null;
        });
  }

  private void append(ByteBuffer state) throws IOException {
    while (state.hasRemaining()) {
      if (filling == null) {
        filling = takeSlot();
      }
      ByteBuffer chunk = filling.state();
      int n = Math.min(state.remaining(), chunk.remaining());
      chunk.put(state.slice(state.position(), n));
      state.position(state.position() + n);
      if (!chunk.hasRemaining()) {
        handOff();
      }
    }
  }

  /** The rest of the chunk being filled, for the caller to fill in place ({@link #lentFilled}). */
  ByteBuffer lend() throws IOException {
    return guarded(
        () -> {
          if (filling == null) {
            filling = takeSlot();
          }
          return filling.state();
        });
  }

  /** {@code lent}, from {@link #lend}, holds more state up to its position. */
  void lentFilled(ByteBuffer lent) throws IOException {
    guarded(
        () -> {
          if (filling == null || lent != filling.state()) {
            throw new IllegalStateException("not the buffer this encoder lent");
          }
          if (!lent.hasRemaining()) {
            handOff();
          }
          return null;
        });
  }

  /**
   * Writes the last chunk, the end marker and the trailer.
   *
   * @param path the blob file, or null for a stream; goes into the summary
   */
  BlobSummary finish(Path path) throws IOException {
    return guarded(() -> end(path));
  }

  /** Whether a step failed, which leaves the blob fit only to be dropped. */
  boolean failed() {
    return failed;
  }

  private BlobSummary end(Path path) throws IOException {
    if (filling != null && filling.state().position() > 0) {
      handOff();
    }
    while (!running.isEmpty()) {
      retireOldest();
    }
    byte[] stateDigest = digest.digest();
    ByteBuffer end =
        ByteBuffer.allocate(BlobFormat.END_BYTES + (seal == null ? 0 : ChunkSeal.TAG_BYTES));
    end.putInt(BlobFormat.END_MARKER).putLong(stateBytes).put(stateDigest);
    end.putInt(BlobFormat.crc32c(end.duplicate().flip().position(Integer.BYTES)));
    if (seal != null) {
      end.put(seal.endTag(chunks, stateBytes, stateDigest));
    }
    emit(end.flip());
    String hex = digestKind == BlobDigest.NONE ? null : HexFormat.of().formatHex(stateDigest);
    return new BlobSummary(path, stateBytes, storedBytes, hex);
  }

  /** Waits for the chunks in the background, whose work is bounded, and frees the codecs. */
  @Override
  public void close() {
    while (!running.isEmpty()) {
      Running oldest = running.poll();
      try {
        await(oldest.emitted());
      } catch (IOException | RuntimeException e) {
        // The blob is abandoned; only a codec must not be freed under a running chunk.
      }
      free.add(oldest.slot());
    }
    if (filling != null) {
      free.add(filling);
      filling = null;
    }
    for (Slot slot : free) {
      slot.codec().close();
    }
    free.clear();
  }

  /** A step of the caller's; one that fails fails the encoder. */
  @FunctionalInterface
  private interface Step<T> {
    T run() throws IOException;
  }

  private <T> T guarded(Step<T> step) throws IOException {
    if (failed) {
      throw new IllegalStateException("an earlier step of this blob failed");
    }
    try {
      return step.run();
    } catch (IOException | RuntimeException e) {
      failed = true;
      throw e;
    }
  }

  /** A free buffer: a new one while fewer than the bound exist, else the oldest chunk's. */
  private Slot takeSlot() throws IOException {
    if (!free.isEmpty()) {
      return free.poll();
    }
    if (slots <= IN_FLIGHT) {
      slots++;
      ByteBuffer state =
          heap
              ? ByteBuffer.allocate(BlobFormat.MAX_CHUNK_BYTES)
              : ByteBuffer.allocateDirect(BlobFormat.MAX_CHUNK_BYTES);
      return new Slot(state, ChunkCodec.of(compression), new CipherSpace());
    }
    retireOldest();
    return free.poll();
  }

  /** The filled chunk goes to the background; the oldest is emitted first if too many run. */
  private void handOff() throws IOException {
    Slot full = filling;
    filling = null;
    ByteBuffer chunk = full.state().flip();
    stateBytes += chunk.remaining();
    long index = chunks++;
    if (running.size() >= IN_FLIGHT) {
      retireOldest();
    }
    CompletableFuture<Encoded> encoded =
        inline
            ? CompletableFuture.completedFuture(encode(full, index))
            : CompletableFuture.supplyAsync(() -> encode(full, index), ChunkHashing.THREADS);
    CompletableFuture<Void> emitted =
        encoded
            .thenCombine(lastEmitted, (done, previous) -> done)
            .thenAcceptAsync(this::emitChunk, ChunkHashing.THREADS);
    lastEmitted = emitted;
    running.add(new Running(full, emitted));
  }

  private Encoded encode(Slot slot, long index) {
    ByteBuffer state = slot.state();
    byte[] chunkHash = digest.hashChunk(state);
    ByteBuffer stored = slot.codec().encode(state);
    byte[] tag = null;
    if (seal != null) {
      tag = new byte[ChunkSeal.TAG_BYTES];
      stored = seal.seal(index, stored, tag, slot.space());
    }
    return new Encoded(stored, BlobFormat.crc32c(stored), chunkHash, tag);
  }

  /** Waits until the oldest chunk in the background is written out, and frees its buffer. */
  private void retireOldest() throws IOException {
    Running oldest = running.poll();
    try {
      await(oldest.emitted());
    } finally {
      oldest.slot().state().clear();
      free.add(oldest.slot());
    }
  }

  /** Runs in the background, after the previous chunk's; folds the digests in chunk order. */
  private void emitChunk(Encoded encoded) {
    digest.fold(encoded.chunkHash());
    frame.clear().putInt(encoded.stored().remaining()).putInt(encoded.crc());
    if (encoded.tag() != null) {
      frame.put(encoded.tag());
    }
    frame.flip();
    try {
      emit(frame);
      emit(encoded.stored());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void await(Future<Void> emitted) throws IOException {
    boolean interrupted = false;
    try {
      while (true) {
        try {
          emitted.get();
          return;
        } catch (InterruptedException e) {
          // The chunk uses its buffer, its codec and the output: it must end before any of them
          // is touched again.
          interrupted = true;
        }
      }
    } catch (ExecutionException e) {
      if (e.getCause() instanceof UncheckedIOException io) {
        throw io.getCause();
      }
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

  private void emit(ByteBuffer bytes) throws IOException {
    int n = bytes.remaining();
    out.writeFully(bytes);
    storedBytes += n;
  }
}
