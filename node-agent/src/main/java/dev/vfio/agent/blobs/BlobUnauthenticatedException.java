package dev.vfio.agent.blobs;

import java.nio.file.Path;

/**
 * A blob is not proven to come from a holder of the operator's blob key: it carries no seal, a seal
 * of another key, or a tag that does not match its bytes, its place in the blob, its snapshot or
 * its device. Its CRCs may all be right: whoever changed it recomputed them.
 */
public final class BlobUnauthenticatedException extends BlobIntegrityException {
  public BlobUnauthenticatedException(Path file, String problem) {
    super(file, problem);
  }

  public BlobUnauthenticatedException(String source, String problem) {
    super(source, problem);
  }
}
