package dev.vfio.agent.blobs;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.zip.CRC32C;

/** The layout that {@link BlobWriter} writes and {@link BlobReader} checks: docs/blob-format.md. */
final class BlobFormat {
  static final byte[] MAGIC = "VFIOSTAT".getBytes(StandardCharsets.US_ASCII);

  /** Magic, u16 version, u32 header length. */
  static final int PREFIX_BYTES = MAGIC.length + Short.BYTES + Integer.BYTES;

  /** Bounds the header a reader allocates for, whatever a damaged length field says. */
  static final int MAX_HEADER_BYTES = 64 * 1024;

  /** Bounds the chunk buffers, so memory stays constant whatever the state size. */
  static final int MAX_CHUNK_BYTES = 1024 * 1024;

  /** u32 stored length, u32 CRC32C. */
  static final int CHUNK_FRAME_BYTES = 2 * Integer.BYTES;

  /** A chunk length of zero ends the chunks. */
  static final int END_MARKER = 0;

  /** u64 state length and the SHA-256, which the trailer CRC covers. */
  static final int TRAILER_BODY_BYTES = Long.BYTES + 32;

  /** End marker, trailer body, trailer CRC. */
  static final int END_BYTES = Integer.BYTES + TRAILER_BODY_BYTES + Integer.BYTES;

  /**
   * Unknown header fields are ignored so that a field can be added without a version bump; the
   * version changes only when an old reader would misread the file.
   */
  static final ObjectMapper JSON =
      JsonMapper.builder().disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES).build();

  private BlobFormat() {}

  /** CRC32C of the remaining bytes of {@code bytes}, without moving its position. */
  static int crc32c(ByteBuffer bytes) {
    CRC32C crc = new CRC32C();
    crc.update(bytes.duplicate());
    return (int) crc.getValue();
  }

  /** The digest of the uncompressed state that the trailer carries. */
  static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java runtime provides SHA-256", e);
    }
  }
}
