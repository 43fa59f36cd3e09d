package dev.vfio.agent.blobs;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The threads that hash chunks beside the thread moving them. SHA-256 runs at about the speed of
 * a disk or a TLS connection, so done in line it halves either; {@link BlobEncoder} and
 * {@link BlobDecoder} each keep at most one chunk here at a time. Daemon threads that end when
 * idle, so they never keep an agent from stopping.
 */
final class ChunkHashing {
  static final ExecutorService THREADS = Executors.newCachedThreadPool(runnable -> {
    Thread thread = new Thread(runnable, "blob-hashing");
    thread.setDaemon(true);
    return thread;
  });

  private ChunkHashing() {}
}
