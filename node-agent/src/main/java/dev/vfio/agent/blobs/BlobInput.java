package dev.vfio.agent.blobs;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;

/**
 * The bytes of one blob as {@link BlobDecoder} reads them, from a file or from a stream. It counts
 * the offset of every byte, so that a refusal says where the blob is damaged, and reads exactly
 * what it is asked for, so that a stream's reader stops at the trailer and leaves the connection to
 * its owner.
 */
final class BlobInput {
  /** Reads at least one byte into the buffer, or returns -1 at the end of the blob. */
  @FunctionalInterface
  private interface Source {
    int read(ByteBuffer dst) throws IOException;
  }

  /** Bounds each copy from a stream into a direct buffer, which a stream cannot fill itself. */
  private static final int STREAM_COPY_BYTES = 16 * 1024;

  private final Source source;
  private final Path file;
  private final String name;
  private long position;

  private BlobInput(Source source, Path file, String name, long position) {
    this.source = source;
    this.file = file;
    this.name = name;
    this.position = position;
  }

  /** The blob file from byte {@code position} on; moves the channel there. */
  static BlobInput ofFile(Path file, FileChannel channel, long position) throws IOException {
    channel.position(position);
    return new BlobInput(channel::read, file, file.toString(), position);
  }

  /** A blob that starts at the next byte of {@code in}, named {@code name} in refusals. */
  static BlobInput ofStream(String name, InputStream in) {
    byte[] copy = new byte[STREAM_COPY_BYTES];
    return new BlobInput(
        dst -> {
          if (dst.hasArray()) {
            int n = in.read(dst.array(), dst.arrayOffset() + dst.position(), dst.remaining());
            if (n > 0) {
              dst.position(dst.position() + n);
            }
            return n;
          }
          int n = in.read(copy, 0, Math.min(copy.length, dst.remaining()));
          if (n > 0) {
            dst.put(copy, 0, n);
          }
          return n;
        },
        null,
        name,
        0);
  }

  /** Offset of the next byte from the start of the blob. */
  long position() {
    return position;
  }

  /** Fills the remaining space of {@code buffer}, then flips it. */
  void readFully(ByteBuffer buffer, String what) throws IOException {
    while (buffer.hasRemaining()) {
      int n = source.read(buffer);
      if (n < 0) {
        throw refusal("truncated at byte " + position + " while reading " + what);
      }
      position += n;
    }
    buffer.flip();
  }

  BlobIntegrityException refusal(String problem) {
    return refusal(problem, null);
  }

  BlobIntegrityException refusal(String problem, Throwable cause) {
    return file != null
        ? new BlobIntegrityException(file, problem, cause)
        : new BlobIntegrityException(name, problem, cause);
  }

  /** A refusal that says the blob is not proven to come from a holder of the blob key. */
  BlobUnauthenticatedException unauthenticated(String problem) {
    return file != null
        ? new BlobUnauthenticatedException(file, problem)
        : new BlobUnauthenticatedException(name, problem);
  }

  /** The blob as refusals name it. */
  String name() {
    return name;
  }
}
