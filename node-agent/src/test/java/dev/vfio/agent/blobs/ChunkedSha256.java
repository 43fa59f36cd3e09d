package dev.vfio.agent.blobs;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.HexFormat;

/**
 * The digest of blob format version 2 computed the plain way, independently of the writer: the
 * state is cut into 1 MiB chunks, and the SHA-256 of their SHA-256s is taken.
 */
final class ChunkedSha256 {
  private static final int CHUNK = 1 << 20;

  private final MessageDigest root = BlobFormat.sha256();
  private MessageDigest chunk = BlobFormat.sha256();
  private int inChunk;

  /** Takes the remaining bytes of {@code bytes} without moving its position. */
  void update(ByteBuffer bytes) {
    ByteBuffer rest = bytes.duplicate();
    while (rest.hasRemaining()) {
      int n = Math.min(rest.remaining(), CHUNK - inChunk);
      chunk.update(rest.slice(rest.position(), n));
      rest.position(rest.position() + n);
      inChunk += n;
      if (inChunk == CHUNK) {
        endChunk();
      }
    }
  }

  String hex() {
    if (inChunk > 0) {
      endChunk();
    }
    return HexFormat.of().formatHex(root.digest());
  }

  static String of(byte[] state) {
    ChunkedSha256 digest = new ChunkedSha256();
    digest.update(ByteBuffer.wrap(state));
    return digest.hex();
  }

  private void endChunk() {
    root.update(chunk.digest());
    chunk = BlobFormat.sha256();
    inChunk = 0;
  }
}
