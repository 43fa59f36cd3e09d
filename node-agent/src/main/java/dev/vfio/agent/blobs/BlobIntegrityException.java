package dev.vfio.agent.blobs;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A blob is not what its writer stored: damaged, truncated, or in a format this agent lacks. The
 * blob is a file, or a stream when state arrives over the network; the message names either.
 */
public class BlobIntegrityException extends IOException {
  private final Path file;
  private final String source;

  public BlobIntegrityException(Path file, String problem) {
    this(file, String.valueOf(file), problem, null);
  }

  public BlobIntegrityException(Path file, String problem, Throwable cause) {
    this(file, String.valueOf(file), problem, cause);
  }

  /**
   * A blob that is not a file.
   *
   * @param source what the blob is, for the message: {@code "stream from 10.0.0.7:40123"}
   */
  public BlobIntegrityException(String source, String problem) {
    this(null, source, problem, null);
  }

  public BlobIntegrityException(String source, String problem, Throwable cause) {
    this(null, source, problem, cause);
  }

  private BlobIntegrityException(Path file, String source, String problem, Throwable cause) {
    super("blob " + source + ": " + problem, cause);
    this.file = file;
    this.source = source;
  }

  /** The blob file that was refused, or null when the blob was a stream. */
  public Path file() {
    return file;
  }

  /** The refused blob as the message names it: the file, or the stream's description. */
  public String source() {
    return source;
  }
}
