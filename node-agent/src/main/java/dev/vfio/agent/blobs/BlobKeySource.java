package dev.vfio.agent.blobs;

import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * Where an agent finds the operator's blob keys when a Save or a Load needs them. Read each time,
 * not once at start: the kubelet fills the mounted Secret only once the operator has created it,
 * which may be after the agent started, and updates it after a rotation.
 */
@FunctionalInterface
public interface BlobKeySource {
  /**
   * The keys: the current one seals, the previous ones only open.
   *
   * @throws IOException naming where the keys were looked for, if they are not there
   */
  BlobKeyRing ring() throws IOException;

  /**
   * The keys in the directory of {@code file}, where the chart mounts the Secret and {@code file}
   * is its current key ({@link BlobKeyRing#fromDirectory}).
   */
  static BlobKeySource file(Path file) {
    return () -> {
      try {
        return BlobKeyRing.fromDirectory(file.getParent());
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
