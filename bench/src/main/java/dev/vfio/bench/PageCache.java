package dev.vfio.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The kernel's page cache, which stands between a benchmark and the disk: what an earlier variant
 * left dirty must be written back before the next one is timed, and a read is only a disk read when
 * the cache does not hold the file.
 */
final class PageCache {
  private static final Path DROP_CACHES = Path.of("/proc/sys/vm/drop_caches");

  private PageCache() {}

  /** Writes back every dirty page on the machine, so the next writer starts from a quiet disk. */
  static void flush() throws IOException, InterruptedException {
    new ProcessBuilder("sync").inheritIO().start().waitFor();
  }

  /** Whether {@link #drop} can work here: only root may write drop_caches. */
  static boolean canDrop() {
    return Files.isWritable(DROP_CACHES);
  }

  /** Flushes, then drops clean pages, so the next read comes from the disk. */
  static void drop() throws IOException, InterruptedException {
    flush();
    Files.writeString(DROP_CACHES, "3");
  }
}
