package dev.vfio.agent.blobs;

import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * Where an agent finds the operator's blob key when a Save or a Load needs it. Read each time, not
 * once at start: the kubelet fills the mounted Secret only once the operator has created it, which
 * may be after the agent started.
 */
@FunctionalInterface
public interface BlobKeySource {
  /**
   * The key.
   *
   * @throws IOException naming where the key was looked for, if it is not there
   */
  BlobKey key() throws IOException;

  /** The key in {@code file}, where the chart mounts the Secret ({@link BlobKey#fromFile}). */
  static BlobKeySource file(Path file) {
    return () -> {
      try {
        return BlobKey.fromFile(file);
      } catch (NoSuchFileException e) {
        throw new NoSuchFileException(
            file.toString(),
            null,
            "no blob key: the chart mounts the operator's blob key Secret there, which the"
                + " operator creates when it starts");
      }
    };
  }
}
