package dev.vfio.agent.blobs;

import java.nio.ByteBuffer;

/**
 * Brings this runtime's AES-GCM to the CPU's speed before the first blob needs it. HotSpot runs GCM
 * at 1–2 GiB/s a core only once the JIT has compiled the methods that call its AES and GHASH
 * intrinsics, and it compiles a method after thousands of calls: at one call per 1 MiB chunk, the
 * first gibibytes a fresh agent sealed would go at the interpreter's 20–40 MiB/s. Thousands of
 * small chunks sealed and opened take about two seconds of one core, and leave 1 MiB chunks fast
 * (docs/decisions/0010-gcm-blobs.md). They go through {@link GcmChunkSeal} itself, so the JIT
 * compiles the calls blobs make: which calls it saw first decides how fast the later ones run.
 */
public final class CipherWarmUp {
  /** Enough calls for the JIT's last tier, with margin: measured, not derived. */
  private static final int ROUNDS = 12_000;

  /** Small enough to be quick interpreted, large enough to take the same paths as a full chunk. */
  private static final int CHUNK_BYTES = 4096;

  private CipherWarmUp() {}

  /** Runs the warm-up on a daemon thread of the lowest priority, and returns it. */
  public static Thread start() {
    Thread thread = new Thread(CipherWarmUp::run, "blob-cipher-warm-up");
    thread.setDaemon(true);
    thread.setPriority(Thread.MIN_PRIORITY);
    thread.start();
    return thread;
  }

  /** Seals and opens small chunks, of a throwaway key, until the JIT has compiled GCM's paths. */
  public static void run() {
    ChunkSeal seal = new GcmChunkSeal(new byte[BlobKey.BYTES], new byte[32]);
    CipherSpace sealing = new CipherSpace();
    CipherSpace opening = new CipherSpace();
    ByteBuffer chunk = ByteBuffer.allocateDirect(CHUNK_BYTES);
    byte[] tag = new byte[ChunkSeal.TAG_BYTES];
    for (int i = 0; i < ROUNDS; i++) {
      // Lengths that are not all whole AES blocks, as a blob's last chunk and zstd frames are not.
      chunk.clear().limit(CHUNK_BYTES - i % 3 * 5);
      ByteBuffer sealed = seal.seal(i, chunk, tag, sealing);
      ByteBuffer read = chunk.clear().limit(sealed.remaining()).put(sealed).flip();
      if (!seal.open(i, read, ByteBuffer.wrap(tag), opening)) {
        throw new IllegalStateException("AES-256-GCM failed to open what it sealed");
      }
    }
  }
}
