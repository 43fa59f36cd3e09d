package dev.vfio.agent.blobs;

import java.io.IOException;
import java.nio.file.Path;

/** A blob is not what its writer stored: damaged, truncated, or in a format this agent lacks. */
public class BlobIntegrityException extends IOException {
  private final Path file;

  public BlobIntegrityException(Path file, String problem) {
    super("blob " + file + ": " + problem);
    this.file = file;
  }

  public BlobIntegrityException(Path file, String problem, Throwable cause) {
    super("blob " + file + ": " + problem, cause);
    this.file = file;
  }

  /** The blob that was refused. */
  public Path file() {
    return file;
  }
}
