package dev.vfio.agent.blobs;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The threads that hash chunks and write them out beside the thread reading the device. SHA-256
 * runs at about the speed of a disk or a TLS connection, and a write to either takes as long as
 * reading the device, so done in line either halves the rate; {@link BlobEncoder} and {@link
 * BlobDecoder} keep a bounded number of chunks here at a time. Daemon threads that end when idle,
 * so they never keep an agent from stopping.
 */
final class ChunkHashing {
  static final ExecutorService THREADS =
      Executors.newCachedThreadPool(
          runnable -> {
            Thread thread = new Thread(runnable, "blob-hashing");
            thread.setDaemon(true);
            return thread;
          });

  private ChunkHashing() {}
}
