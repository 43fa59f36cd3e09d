package dev.vfio.agent.blobs;

import com.fasterxml.jackson.core.JacksonException;
import dev.vfio.agent.vfio.ChunkSink;
import dev.vfio.agent.vfio.DeviceIdentity;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.zip.DataFormatException;

/**
 * Checks the framing of one blob as it is read, for a file ({@link BlobReader}) and a stream
 * ({@link BlobStreamReader}) alike, so that state arriving over the network passes the checks a
 * stored blob does, but for the digest a stream does not carry. Memory is a few chunks whatever the
 * state size.
 *
 * <p>The digest of a chunk is computed on other threads ({@link ChunkHashing}) while the sink takes
 * that chunk and the next ones are read, since hashing costs as much as the reading. Chunks rotate
 * through {@link #SLOTS} buffers, and a buffer is not refilled until its last chunk is hashed;
 * chunks of the version-2 digest hash at the same time, those of version 1 one after the other,
 * since they feed one running SHA-256.
 *
 * <p>Past 300 lines for the same reason as {@link BlobEncoder}, whose mirror image it is: every
 * check of the format (CRCs, digests, seal tags, the trailer) in the order the bytes arrive.
 */
final class BlobDecoder implements AutoCloseable {
  /** A chunk is read while the previous ones are hashed, as many as the encoder hashes at once. */
  static final int SLOTS = BlobEncoder.IN_FLIGHT + 1;

  /** A chunk's buffer, the codec that decodes into a buffer of its own, and the hash running. */
  private static final class Slot {
    final ChunkBuffer stored;
    final ChunkCodec codec;
    Future<byte[]> hashing;

    Slot(BlobCompression compression, boolean heap) {
      this.codec = ChunkCodec.of(compression);
      this.stored = new ChunkBuffer(codec.maxStoredBytes(), heap);
    }
  }

  private final Slot[] slots = new Slot[SLOTS];
  private final int maxStoredBytes;

  /** Holds a length, a CRC or the trailer: the fields read between chunks. */
  private final ByteBuffer small =
      ByteBuffer.allocate(BlobFormat.TRAILER_BODY_BYTES + Integer.BYTES);

  private final ByteBuffer tag = ByteBuffer.allocate(ChunkSeal.TAG_BYTES);

  /** Where an encrypted chunk is opened: chunks are opened one at a time, on the reading thread. */
  private final CipherSpace space = new CipherSpace();

  private final BlobDigest digestKind;

  /** Whether the chunks and the end record carry tags. */
  private final boolean sealed;

  /** Checks the tags; null when the blob is unsealed or its reader has no key for it. */
  private final ChunkSeal seal;

  /** The header as read, and the SHA-256 of the bytes it was read from, which tags cover. */
  record Head(BlobHeader header, byte[] sha256) {}

  /**
   * @param heap whether chunks are read into heap buffers (from a stream, which fills an array
   *     without a copy) rather than direct ones; zstd always reads direct ones
   * @param seal checks the tags of a sealed blob; null to refuse a sealed blob (no key for it)
   */
  BlobDecoder(BlobHeader header, boolean heap, ChunkSeal seal) {
    this.digestKind = header.digest();
    this.sealed = header.seal().sealed();
    this.seal = seal;
    boolean onHeap = heap && header.compression() == BlobCompression.NONE;
    for (int i = 0; i < SLOTS; i++) {
      slots[i] = new Slot(header.compression(), onHeap);
    }
    this.maxStoredBytes = slots[0].codec.maxStoredBytes();
  }

  /**
   * Reads and checks the magic, the version, the header length bound, the header CRC and the
   * header; leaves {@code in} at the first chunk.
   */
  static Head readHeader(BlobInput in) throws IOException {
    ByteBuffer prefix = ByteBuffer.allocate(BlobFormat.PREFIX_BYTES);
    in.readFully(prefix, "the magic, version and header length");
    byte[] magic = new byte[BlobFormat.MAGIC.length];
    prefix.get(magic);
    if (!Arrays.equals(magic, BlobFormat.MAGIC)) {
      throw in.refusal("bad magic: not a VFIO state blob");
    }
    int version = Short.toUnsignedInt(prefix.getShort());
    if (version < BlobHeader.OLDEST_READABLE_VERSION || version > BlobHeader.FORMAT_VERSION) {
      throw in.refusal(
          "unsupported blob format version "
              + version
              + "; this agent reads versions "
              + BlobHeader.OLDEST_READABLE_VERSION
              + " to "
              + BlobHeader.FORMAT_VERSION);
    }
    long headerBytes = Integer.toUnsignedLong(prefix.getInt());
    if (headerBytes == 0 || headerBytes > BlobFormat.MAX_HEADER_BYTES) {
      throw in.refusal(
          "header length " + headerBytes + " is outside 1.." + BlobFormat.MAX_HEADER_BYTES);
    }
    ByteBuffer head = ByteBuffer.allocate(BlobFormat.PREFIX_BYTES + (int) headerBytes);
    head.put(prefix.flip());
    in.readFully(head, "the header");
    ByteBuffer crc = ByteBuffer.allocate(Integer.BYTES);
    in.readFully(crc, "the header CRC");
    if (crc.getInt() != BlobFormat.crc32c(head.rewind())) {
      throw in.refusal("header CRC mismatch");
    }
    MessageDigest headHash = BlobFormat.sha256();
    headHash.update(head.duplicate());
    BlobHeader header = parseHeader(in, head.position(BlobFormat.PREFIX_BYTES));
    if (header == null) {
      throw in.refusal("header is JSON null, not a blob header");
    }
    if (header.formatVersion() != version) {
      throw in.refusal(
          "header says format version "
              + header.formatVersion()
              + " but the blob is version "
              + version);
    }
    if (header.digest() == null) {
      throw in.refusal("header names no digest, which format version " + version + " requires");
    }
    if (version < BlobHeader.SEALED_SINCE_VERSION && header.seal().sealed()) {
      throw in.refusal(
          "header of format version " + version + " names a seal, which it cannot have");
    }
    return new Head(header, headHash.digest());
  }

  /**
   * Refuses a {@code target} device that cannot load state saved from the blob's device.
   *
   * @throws IncompatibleDeviceException naming both devices
   */
  static void requireCompatible(String blob, BlobHeader header, DeviceIdentity target)
      throws IncompatibleDeviceException {
    DeviceIdentity saved = header.device();
    if (!saved.compatibleWith(target)) {
      throw new IncompatibleDeviceException(
          "blob "
              + blob
              + " holds state of a "
              + describe(saved)
              + "; device "
              + target.address()
              + " is a "
              + describe(target));
    }
  }

  /**
   * Reads the chunks, the end marker and the trailer from {@code in}, delivering each chunk to
   * {@code sink} once its CRC passed and it decompressed, then checks the trailer CRC, the state
   * length and the digest. Leaves {@code in} just after the trailer.
   *
   * @param path the blob file, or null for a stream; goes into the summary
   */
  BlobSummary readState(BlobInput in, ChunkSink sink, Path path) throws IOException {
    if (sealed && seal == null) {
      throw in.unauthenticated(
          "the blob is sealed, and this reader has no key for it: only a node agent"
              + " holding the operator's blob key reads it");
    }
    StateDigest digest = StateDigest.of(digestKind);
    long stateBytes = 0;
    long chunk = 0;
    try {
      for (; ; chunk++) {
        long position = in.position();
        small.clear().limit(Integer.BYTES);
        in.readFully(small, "the length of chunk " + chunk);
        long length = Integer.toUnsignedLong(small.getInt());
        if (length == BlobFormat.END_MARKER) {
          break;
        }
        if (length > maxStoredBytes) {
          throw in.refusal(
              "chunk "
                  + chunk
                  + " at byte "
                  + position
                  + " claims "
                  + length
                  + " bytes, more than the "
                  + maxStoredBytes
                  + " a chunk can hold");
        }
        small.clear().limit(Integer.BYTES);
        in.readFully(small, "the CRC of chunk " + chunk);
        int expectedCrc = small.getInt();
        if (sealed) {
          in.readFully(tag.clear(), "the tag of chunk " + chunk);
        }
        // The chunk this slot held last may still be hashed from its buffers: fold it first,
        // which keeps the folds in chunk order.
        Slot slot = slots[(int) (chunk % SLOTS)];
        fold(digest, slot);
        ByteBuffer stored = slot.stored.ofLength((int) length);
        in.readFully(stored, "chunk " + chunk);
        if (BlobFormat.crc32c(stored) != expectedCrc) {
          throw in.refusal("CRC mismatch in chunk " + chunk + " at byte " + position);
        }
        // Before a byte of it is decompressed: zstd is not fed what a stranger wrote.
        if (sealed && !seal.open(chunk, stored, tag, space)) {
          throw in.unauthenticated(
              "chunk "
                  + chunk
                  + " at byte "
                  + position
                  + " fails its tag: changed, moved, or from another blob, snapshot or device");
        }
        ByteBuffer state;
        try {
          state = slot.codec.decode(stored);
        } catch (DataFormatException e) {
          throw in.refusal(
              "chunk " + chunk + " at byte " + position + " does not decompress: " + e.getMessage(),
              e);
        }
        if (digestKind != BlobDigest.NONE) {
          if (!digest.parallel()) {
            // One running SHA-256: the previous chunk's update must be done before this one's.
            fold(digest, slots[(int) ((chunk + SLOTS - 1) % SLOTS)]);
          }
          ByteBuffer toHash = state.duplicate();
          slot.hashing = ChunkHashing.THREADS.submit(() -> digest.hashChunk(toHash));
        }
        stateBytes += state.remaining();
        sink.write(state);
      }
      // The oldest chunk still hashing is in the slot the next chunk would have taken.
      for (long i = 0; i < SLOTS; i++) {
        fold(digest, slots[(int) ((chunk + i) % SLOTS)]);
      }
    } finally {
      // On a refusal too: the next read must not refill a buffer that is still being hashed.
      for (Slot slot : slots) {
        quietlyAwaitHash(slot);
      }
    }
    long trailer = in.position();
    small.clear().limit(BlobFormat.TRAILER_BODY_BYTES + Integer.BYTES);
    in.readFully(small, "the trailer");
    ByteBuffer body = small.slice(0, BlobFormat.TRAILER_BODY_BYTES);
    if (BlobFormat.crc32c(body) != small.getInt(BlobFormat.TRAILER_BODY_BYTES)) {
      throw in.refusal("trailer CRC mismatch at byte " + trailer);
    }
    long declaredBytes = body.getLong();
    byte[] declaredSha = new byte[32];
    body.get(declaredSha);
    if (sealed) {
      in.readFully(tag.clear(), "the tag of the end record");
      if (!seal.endVerifies(chunk, declaredBytes, declaredSha, tag)) {
        throw in.unauthenticated(
            "the end record at byte "
                + trailer
                + " fails its tag: the blob was cut short or its trailer changed");
      }
    }
    if (declaredBytes != stateBytes) {
      throw in.refusal(
          "state length mismatch: the trailer says "
              + declaredBytes
              + " bytes, the chunks hold "
              + stateBytes);
    }
    byte[] actualSha = digest.digest();
    if (!MessageDigest.isEqual(declaredSha, actualSha)) {
      throw in.refusal(
          digestKind == BlobDigest.NONE
              ? "the trailer holds a digest although the header names none"
              : "SHA-256 mismatch: the trailer says "
                  + HexFormat.of().formatHex(declaredSha)
                  + ", the state hashes to "
                  + HexFormat.of().formatHex(actualSha));
    }
    String hex = digestKind == BlobDigest.NONE ? null : HexFormat.of().formatHex(actualSha);
    return new BlobSummary(path, stateBytes, in.position(), hex);
  }

  @Override
  public void close() {
    for (Slot slot : slots) {
      quietlyAwaitHash(slot);
      slot.codec.close();
    }
  }

  /** Waits for the chunk hashed from {@code slot}, if any, and folds its hash into the digest. */
  private static void fold(StateDigest digest, Slot slot) {
    Future<byte[]> hashing = slot.hashing;
    slot.hashing = null;
    if (hashing != null) {
      digest.fold(awaitHash(hashing));
    }
  }

  /** What the chunk's hash folds into the digest; null if none ran. */
  private static byte[] awaitHash(Future<byte[]> hashing) {
    if (hashing == null) {
      return null;
    }
    boolean interrupted = false;
    try {
      while (true) {
        try {
          return hashing.get();
        } catch (InterruptedException e) {
          // The hash reads a buffer the caller is about to refill: it must end first.
          interrupted = true;
        }
      }
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RuntimeException runtime) {
        throw runtime;
      }
      throw new IllegalStateException("hashing a chunk failed", e.getCause());
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private static void quietlyAwaitHash(Slot slot) {
    Future<byte[]> hashing = slot.hashing;
    slot.hashing = null;
    try {
      awaitHash(hashing);
    } catch (RuntimeException e) {
      // Already failing; the hash of a refused blob is worth nothing.
    }
  }

  private static BlobHeader parseHeader(BlobInput in, ByteBuffer json) throws IOException {
    try {
      return BlobFormat.JSON.readValue(
          json.array(), json.position(), json.remaining(), BlobHeader.class);
    } catch (JacksonException e) {
      throw in.refusal("header is not a valid blob header: " + e.getOriginalMessage(), e);
    }
  }

  private static String describe(DeviceIdentity device) {
    return device.driver() + " device " + device.vendorId() + ":" + device.deviceId();
  }
}
