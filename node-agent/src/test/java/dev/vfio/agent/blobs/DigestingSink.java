package dev.vfio.agent.blobs;

import dev.vfio.agent.vfio.ChunkSink;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.HexFormat;

/** A sink standing in for a device: it hashes what it receives and remembers the chunk sizes. */
final class DigestingSink implements ChunkSink {
  private final MessageDigest sha256 = BlobFormat.sha256();
  long bytes;
  int chunks;
  int largestChunk;

  @Override
  public void write(ByteBuffer chunk) {
    int n = chunk.remaining();
    sha256.update(chunk);
    bytes += n;
    chunks++;
    largestChunk = Math.max(largestChunk, n);
  }

  String sha256Hex() {
    return HexFormat.of().formatHex(sha256.digest());
  }
}
