package dev.vfio.agent.blobs;

import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;

/** Storage claims on volumes that fill up, for the tests of what writes blobs. */
public final class FullClaims {
  private FullClaims() {}

  /**
   * A store whose every blob file fails with "No space left on device" after {@code room} bytes.
   */
  public static BlobStore fullAfter(Map<String, Path> roots, long room) {
    return new BlobStore(
        roots,
        temporary ->
            new FullDiskChannel(
                FileChannel.open(
                    temporary, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE),
                room,
                false));
  }
}
