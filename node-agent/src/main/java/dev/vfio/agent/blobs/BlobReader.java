package dev.vfio.agent.blobs;

import com.fasterxml.jackson.core.JacksonException;
import dev.vfio.agent.vfio.DeviceIdentity;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.zip.DataFormatException;

/**
 * Reads one blob, checking it as it goes. {@link #open} checks the magic, version and header;
 * {@link #verify} checks everything else without delivering a byte; {@link #copyTo} delivers the
 * state chunk by chunk, each chunk checked before delivery. Only a full pass can check the
 * SHA-256, so a loader calls {@link #verify} before {@link #copyTo}: a damaged blob is then
 * refused before its first byte reaches a device. Memory is one chunk whatever the state size.
 * Not thread-safe.
 */
public final class BlobReader implements AutoCloseable {
  private final Path path;
  private final FileChannel channel;
  private final BlobHeader header;
  private final long chunksOffset;
  private final ChunkCodec codec;
  private final ChunkBuffer stored;
  /** Holds a length, a CRC or the trailer: the fields read between chunks. */
  private final ByteBuffer small =
      ByteBuffer.allocate(BlobFormat.TRAILER_BODY_BYTES + Integer.BYTES);

  private BlobReader(Path path, FileChannel channel, BlobHeader header, long chunksOffset) {
    this.path = path;
    this.channel = channel;
    this.header = header;
    this.chunksOffset = chunksOffset;
    this.codec = ChunkCodec.of(header.compression());
    this.stored = new ChunkBuffer(codec.maxStoredBytes());
  }

  /**
   * Opens {@code path} and reads its header.
   *
   * @throws BlobIntegrityException if the file is not a blob, is of an unsupported format
   *     version, or its header is damaged
   */
  public static BlobReader open(Path path) throws IOException {
    FileChannel channel = FileChannel.open(path, StandardOpenOption.READ);
    try {
      ByteBuffer prefix = ByteBuffer.allocate(BlobFormat.PREFIX_BYTES);
      readFully(path, channel, prefix, 0, "the magic, version and header length");
      byte[] magic = new byte[BlobFormat.MAGIC.length];
      prefix.get(magic);
      if (!Arrays.equals(magic, BlobFormat.MAGIC)) {
        throw new BlobIntegrityException(path, "bad magic: not a VFIO state blob");
      }
      int version = Short.toUnsignedInt(prefix.getShort());
      if (version != BlobHeader.FORMAT_VERSION) {
        throw new BlobIntegrityException(path, "unsupported blob format version " + version
            + "; this agent reads version " + BlobHeader.FORMAT_VERSION);
      }
      long headerBytes = Integer.toUnsignedLong(prefix.getInt());
      if (headerBytes == 0 || headerBytes > BlobFormat.MAX_HEADER_BYTES) {
        throw new BlobIntegrityException(path, "header length " + headerBytes
            + " is outside 1.." + BlobFormat.MAX_HEADER_BYTES);
      }
      ByteBuffer head = ByteBuffer.allocate(BlobFormat.PREFIX_BYTES + (int) headerBytes);
      head.put(prefix.flip());
      readFully(path, channel, head, BlobFormat.PREFIX_BYTES, "the header");
      ByteBuffer crc = ByteBuffer.allocate(Integer.BYTES);
      readFully(path, channel, crc, head.capacity(), "the header CRC");
      if (crc.getInt() != BlobFormat.crc32c(head.rewind())) {
        throw new BlobIntegrityException(path, "header CRC mismatch");
      }
      BlobHeader header = parseHeader(path, head.position(BlobFormat.PREFIX_BYTES));
      if (header == null) {
        throw new BlobIntegrityException(path, "header is JSON null, not a blob header");
      }
      if (header.formatVersion() != version) {
        throw new BlobIntegrityException(path, "header says format version "
            + header.formatVersion() + " but the file is version " + version);
      }
      return new BlobReader(path, channel, header, head.capacity() + (long) Integer.BYTES);
    } catch (IOException | RuntimeException e) {
      channel.close();
      throw e;
    }
  }

  /** The blob's header, as checked by {@link #open}. */
  public BlobHeader header() {
    return header;
  }

  /** The blob file. */
  public Path path() {
    return path;
  }

  /**
   * Refuses a {@code target} device that cannot load state saved from the blob's device.
   *
   * @throws IncompatibleDeviceException naming both devices
   */
  public void requireCompatibleWith(DeviceIdentity target) throws IncompatibleDeviceException {
    DeviceIdentity saved = header.device();
    if (!saved.compatibleWith(target)) {
      throw new IncompatibleDeviceException("blob " + path + " holds state of a "
          + describe(saved) + "; device " + target.address() + " is a " + describe(target));
    }
  }

  /**
   * Reads the whole blob and checks every chunk CRC, that every chunk decompresses, the trailer
   * CRC, the state length and the SHA-256, and that nothing follows the trailer.
   *
   * @throws BlobIntegrityException naming the file and the first problem found
   */
  public BlobSummary verify() throws IOException {
    return scan(chunk -> { });
  }

  /**
   * Delivers the uncompressed state to {@code sink}, chunk by chunk, each chunk checked before
   * it is delivered; the SHA-256 is checked after the last chunk, when the state has already
   * been delivered. Call {@link #verify} first so a damaged blob delivers nothing.
   *
   * @throws BlobIntegrityException naming the file and the problem
   */
  public void copyTo(BlobSink sink) throws IOException {
    scan(sink);
  }

  @Override
  public void close() throws IOException {
    codec.close();
    channel.close();
  }

  private BlobSummary scan(BlobSink sink) throws IOException {
    MessageDigest sha256 = BlobFormat.sha256();
    long stateBytes = 0;
    long position = chunksOffset;
    for (long chunk = 0; ; chunk++) {
      small.clear().limit(Integer.BYTES);
      readFully(path, channel, small, position, "the length of chunk " + chunk);
      long length = Integer.toUnsignedLong(small.getInt());
      if (length == BlobFormat.END_MARKER) {
        break;
      }
      if (length > codec.maxStoredBytes()) {
        throw new BlobIntegrityException(path, "chunk " + chunk + " at byte " + position
            + " claims " + length + " bytes, more than the " + codec.maxStoredBytes()
            + " a chunk can hold");
      }
      small.clear().limit(Integer.BYTES);
      readFully(path, channel, small, position + Integer.BYTES, "the CRC of chunk " + chunk);
      int expectedCrc = small.getInt();
      ByteBuffer stored = this.stored.ofLength((int) length);
      readFully(path, channel, stored, position + BlobFormat.CHUNK_FRAME_BYTES,
          "chunk " + chunk);
      if (BlobFormat.crc32c(stored) != expectedCrc) {
        throw new BlobIntegrityException(path, "CRC mismatch in chunk " + chunk + " at byte "
            + position);
      }
      ByteBuffer state;
      try {
        state = codec.decode(stored);
      } catch (DataFormatException e) {
        throw new BlobIntegrityException(path, "chunk " + chunk + " at byte " + position
            + " does not decompress: " + e.getMessage(), e);
      }
      sha256.update(state.duplicate());
      stateBytes += state.remaining();
      sink.accept(state);
      position += BlobFormat.CHUNK_FRAME_BYTES + length;
    }
    long trailer = position + Integer.BYTES;
    small.clear().limit(BlobFormat.TRAILER_BODY_BYTES + Integer.BYTES);
    readFully(path, channel, small, trailer, "the trailer");
    ByteBuffer body = small.slice(0, BlobFormat.TRAILER_BODY_BYTES);
    if (BlobFormat.crc32c(body) != small.getInt(BlobFormat.TRAILER_BODY_BYTES)) {
      throw new BlobIntegrityException(path, "trailer CRC mismatch at byte " + trailer);
    }
    long declaredBytes = body.getLong();
    byte[] declaredSha = new byte[32];
    body.get(declaredSha);
    if (declaredBytes != stateBytes) {
      throw new BlobIntegrityException(path, "state length mismatch: the trailer says "
          + declaredBytes + " bytes, the chunks hold " + stateBytes);
    }
    byte[] actualSha = sha256.digest();
    if (!MessageDigest.isEqual(declaredSha, actualSha)) {
      throw new BlobIntegrityException(path, "SHA-256 mismatch: the trailer says "
          + HexFormat.of().formatHex(declaredSha) + ", the state hashes to "
          + HexFormat.of().formatHex(actualSha));
    }
    long end = trailer + BlobFormat.TRAILER_BODY_BYTES + Integer.BYTES;
    long size = channel.size();
    if (size != end) {
      throw new BlobIntegrityException(path, "trailing garbage: " + (size - end)
          + " bytes after the trailer ending at byte " + end);
    }
    return new BlobSummary(path, stateBytes, end, HexFormat.of().formatHex(actualSha));
  }

  private static BlobHeader parseHeader(Path path, ByteBuffer json) throws IOException {
    try {
      return BlobFormat.JSON.readValue(json.array(), json.position(), json.remaining(),
          BlobHeader.class);
    } catch (JacksonException e) {
      throw new BlobIntegrityException(path, "header is not a valid blob header: "
          + e.getOriginalMessage(), e);
    }
  }

  /** Fills the remaining space of {@code buffer} from {@code position}, then flips it. */
  private static void readFully(
      Path path, FileChannel channel, ByteBuffer buffer, long position, String what)
      throws IOException {
    long at = position;
    while (buffer.hasRemaining()) {
      int n = channel.read(buffer, at);
      if (n < 0) {
        throw new BlobIntegrityException(path, "truncated at byte " + at + " while reading "
            + what);
      }
      at += n;
    }
    buffer.flip();
  }

  private static String describe(DeviceIdentity device) {
    return device.driver() + " device " + device.vendorId() + ":" + device.deviceId();
  }
}
