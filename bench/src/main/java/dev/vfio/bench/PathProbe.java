package dev.vfio.bench;

import dev.vfio.agent.blobs.BlobAuthentication;
import dev.vfio.agent.blobs.BlobCompression;
import dev.vfio.agent.blobs.BlobDigest;
import dev.vfio.agent.blobs.BlobHeader;
import dev.vfio.agent.blobs.BlobIdentity;
import dev.vfio.agent.blobs.BlobKey;
import dev.vfio.agent.blobs.BlobReader;
import dev.vfio.agent.blobs.BlobWriter;
import dev.vfio.agent.blobs.CipherWarmUp;
import dev.vfio.agent.vfio.MigrationState;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Base64;
import java.util.SplittableRandom;

/**
 * One variant of the save or load path, alone in its own JVM, so that the peak resident memory it
 * reports (VmHWM) is its own and not that of whatever ran before it. A warm-up pass comes first,
 * then the page cache is flushed (or dropped, for reads) and the timed pass runs. Prints one line:
 * {@code PROBE seconds=… cpuSeconds=… hwmKiB=…}.
 *
 * <p>Usage: {@code PathProbe VARIANT BYTES FILE DEVICE_DIR [DROP_CACHES]}, where VARIANT is one of
 * {@link Variant}.
 */
public final class PathProbe {
  /** The write and read unit of the raw baselines, that of {@code dd bs=1M}. */
  static final int IO_BYTES = 1 << 20;

  /** Enough for the JIT to compile every loop of a variant before the timed pass. */
  private static final long WARM_UP_BYTES = 128L << 20;

  /** What a probe does. */
  enum Variant {
    /** The disk's limit: sequential 1 MiB writes of the same size, then fsync. */
    RAW_WRITE,
    /**
     * The agent's save of a snapshot as it comes by default (sealed with the blob key by
     * AES-256-GCM, so encrypted, no digest): device STOP_COPY, readToEnd, BlobWriter, commit
     * (fsync, rename).
     */
    BLOB_SAVE,
    /** The same save sealed with HMAC-SHA-256, as format 3 first sealed blobs, in the clear. */
    BLOB_SAVE_HMAC,
    /** The same save without a seal, as blobs were saved before format 3: what the seal costs. */
    BLOB_SAVE_UNSEALED,
    /** The same save for a snapshot that asks for {@code digest: SHA256}. */
    BLOB_SAVE_SHA256,
    /** The simulated device's own limit: readToEnd into nothing. */
    DEVICE_READ,
    /**
     * Cloud Hypervisor's way: the whole state read into memory, base64 into a JSON document,
     * written and fsynced.
     */
    JSON_SAVE,
    /** The disk's limit: sequential 1 MiB reads of the file to its end. */
    RAW_READ,
    /**
     * The agent's load: open, compatibility, authenticate (when sealed), verify, device RESUMING,
     * copyTo, RUNNING.
     */
    BLOB_LOAD,
    /** Only the blob's checks: open and verify, no device. */
    BLOB_VERIFY;

    /** Whether it writes a file of its own rather than reading one that exists. */
    boolean writes() {
      return this == RAW_WRITE
          || this == BLOB_SAVE
          || this == BLOB_SAVE_HMAC
          || this == BLOB_SAVE_UNSEALED
          || this == BLOB_SAVE_SHA256
          || this == DEVICE_READ
          || this == JSON_SAVE;
    }
  }

  /** The operator's blob key, as an agent holds it. */
  private static final BlobKey KEY = BlobKey.of(new byte[32]);

  /** The snapshot and device every probe's blob belongs to. */
  private static final BlobIdentity IDENTITY =
      new BlobIdentity("00000000-0000-0000-0000-000000000001", BenchDevice.ADDRESS);

  private PathProbe() {}

  public static void main(String[] args) throws Exception {
    Variant variant = Variant.valueOf(args[0]);
    long bytes = Long.parseLong(args[1]);
    Path file = Path.of(args[2]);
    Path deviceDirectory = Path.of(args[3]);
    boolean dropCaches = args.length > 4 && Boolean.parseBoolean(args[4]);
    // As the agent does at start, so that its first blob is sealed at the CPU's speed.
    CipherWarmUp.run();
    // A cold JVM interprets the hashing and copying loops for its first hundred MiB or so; an
    // agent saves many devices in its life, so the timed pass runs warm, like all but its first.
    if (variant.writes()) {
      Path warm = file.resolveSibling(file.getFileName() + ".warm");
      run(variant, Math.min(bytes, WARM_UP_BYTES), warm, deviceDirectory.resolve("warm"));
      Files.deleteIfExists(warm);
    } else {
      run(variant, bytes, file, deviceDirectory.resolve("warm"));
    }
    if (dropCaches) {
      PageCache.drop();
    } else {
      PageCache.flush();
    }
    long cpuBefore = CpuTime.process();
    long start = System.nanoTime();
    run(variant, bytes, file, deviceDirectory);
    double seconds = (System.nanoTime() - start) / 1e9;
    double cpuSeconds = (CpuTime.process() - cpuBefore) / 1e9;
    System.out.println(
        "PROBE seconds=" + seconds + " cpuSeconds=" + cpuSeconds + " hwmKiB=" + peakResidentKib());
  }

  private static void run(Variant variant, long bytes, Path file, Path deviceDirectory)
      throws IOException {
    switch (variant) {
      case RAW_WRITE -> rawWrite(file, bytes);
      case BLOB_SAVE ->
          blobSave(file, bytes, deviceDirectory, BlobDigest.NONE, BlobAuthentication.AES_256_GCM);
      case BLOB_SAVE_HMAC ->
          blobSave(file, bytes, deviceDirectory, BlobDigest.NONE, BlobAuthentication.HMAC_SHA256);
      case BLOB_SAVE_UNSEALED ->
          blobSave(file, bytes, deviceDirectory, BlobDigest.NONE, BlobAuthentication.NONE);
      case BLOB_SAVE_SHA256 ->
          blobSave(
              file,
              bytes,
              deviceDirectory,
              BlobDigest.SHA256_CHUNKS,
              BlobAuthentication.AES_256_GCM);
      case DEVICE_READ -> deviceRead(bytes, deviceDirectory);
      case JSON_SAVE -> jsonSave(file, bytes, deviceDirectory);
      case RAW_READ -> rawRead(file);
      case BLOB_LOAD -> blobLoad(file, bytes, deviceDirectory);
      case BLOB_VERIFY -> blobVerify(file);
    }
  }

  private static void rawWrite(Path file, long bytes) throws IOException {
    ByteBuffer buffer = ByteBuffer.allocateDirect(IO_BYTES);
    // Random bytes, as state is: no layer below may take a shortcut on zeros.
    byte[] random = new byte[IO_BYTES];
    new SplittableRandom(1).nextBytes(random);
    buffer.put(random).flip();
    try (FileChannel channel =
        FileChannel.open(
            file,
            StandardOpenOption.CREATE,
            StandardOpenOption.TRUNCATE_EXISTING,
            StandardOpenOption.WRITE)) {
      for (long left = bytes; left > 0; ) {
        buffer.clear().limit((int) Math.min(IO_BYTES, left));
        while (buffer.hasRemaining()) {
          left -= channel.write(buffer);
        }
      }
      channel.force(true);
    }
  }

  private static void blobSave(
      Path file, long bytes, Path deviceDirectory, BlobDigest digest, BlobAuthentication seal)
      throws IOException {
    BenchDevice device = BenchDevice.open(deviceDirectory, BenchDevice.ADDRESS, bytes).stopCopy();
    BlobHeader header = device.header(BlobCompression.NONE).withDigest(digest);
    try (BlobWriter writer =
        seal == BlobAuthentication.NONE
            ? BlobWriter.create(file, header)
            : BlobWriter.create(file, header, KEY, IDENTITY, seal)) {
      device.machine().readToEnd(writer, total -> {});
      writer.commit();
    }
    device.machine().transition(MigrationState.RUNNING);
  }

  private static void deviceRead(long bytes, Path deviceDirectory) throws IOException {
    BenchDevice device = BenchDevice.open(deviceDirectory, BenchDevice.ADDRESS, bytes).stopCopy();
    device.machine().readToEnd(chunk -> chunk.position(chunk.limit()), total -> {});
    device.machine().transition(MigrationState.RUNNING);
  }

  /** The whole state in a growable array, as a Vec would hold it, then base64 in one document. */
  private static void jsonSave(Path file, long bytes, Path deviceDirectory) throws IOException {
    BenchDevice device = BenchDevice.open(deviceDirectory, BenchDevice.ADDRESS, bytes).stopCopy();
    ExposedBuffer state = new ExposedBuffer();
    byte[] copy = new byte[IO_BYTES];
    device
        .machine()
        .readToEnd(
            chunk -> {
              while (chunk.hasRemaining()) {
                int n = Math.min(copy.length, chunk.remaining());
                chunk.get(copy, 0, n);
                state.write(copy, 0, n);
              }
            },
            total -> {});
    ByteBuffer encoded = Base64.getEncoder().encode(state.contents());
    try (FileChannel channel =
        FileChannel.open(
            file,
            StandardOpenOption.CREATE,
            StandardOpenOption.TRUNCATE_EXISTING,
            StandardOpenOption.WRITE)) {
      var out = Channels.newOutputStream(channel);
      out.write(
          ("{\"id\":\"" + BenchDevice.ADDRESS + "\",\"state\":\"")
              .getBytes(StandardCharsets.US_ASCII));
      out.write(encoded.array(), encoded.arrayOffset(), encoded.remaining());
      out.write("\"}".getBytes(StandardCharsets.US_ASCII));
      channel.force(true);
    }
    device.machine().transition(MigrationState.RUNNING);
  }

  private static void rawRead(Path file) throws IOException {
    ByteBuffer buffer = ByteBuffer.allocateDirect(IO_BYTES);
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
      while (channel.read(buffer.clear()) >= 0) {
        // Every byte read once, as the disk delivers it.
      }
    }
  }

  private static void blobLoad(Path file, long bytes, Path deviceDirectory) throws IOException {
    BenchDevice device = BenchDevice.open(deviceDirectory, BenchDevice.ADDRESS, bytes);
    try (BlobReader reader = BlobReader.open(file)) {
      if (reader.sealed()) {
        reader.authenticate(KEY, IDENTITY);
      }
      reader.requireCompatibleWith(device.device().spec().identity());
      reader.verify();
      device.resuming();
      reader.copyTo(device.machine()::writeAll);
      device.machine().transition(MigrationState.RUNNING);
    }
  }

  private static void blobVerify(Path file) throws IOException {
    try (BlobReader reader = BlobReader.open(file)) {
      if (reader.sealed()) {
        reader.authenticate(KEY, IDENTITY);
      }
      reader.verify();
    }
  }

  /**
   * What one probe measured.
   *
   * @param seconds wall time of the variant inside its JVM, JVM start excluded
   * @param cpuSeconds CPU time of all the probe's threads during the timed pass (the kernel's own
   *     writeback threads are not in it, for any variant)
   * @param peakResidentKib VmHWM of the probe's JVM at its end
   */
  record Outcome(double seconds, double cpuSeconds, long peakResidentKib) {}

  /**
   * Runs {@code variant} in a new JVM with the same flags for every variant, and returns what it
   * measured.
   *
   * @param maxHeap the -Xmx of the probe: large enough for the in-memory variant, and not touched
   *     by the streaming ones, which start at a 16 MiB heap and stay there
   */
  static Outcome launch(
      Variant variant,
      long bytes,
      Path file,
      Path deviceDirectory,
      String maxHeap,
      boolean dropCaches,
      Path log)
      throws IOException, InterruptedException {
    java.util.List<String> command =
        java.util.List.of(
            Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-Xms16m",
            "-Xmx" + maxHeap,
            "-XX:+UseSerialGC",
            "-cp",
            System.getProperty("java.class.path"),
            PathProbe.class.getName(),
            variant.name(),
            Long.toString(bytes),
            file.toString(),
            deviceDirectory.toString(),
            Boolean.toString(dropCaches));
    Process process =
        new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
            .start();
    int exit = process.waitFor();
    String last = null;
    for (String line : Files.readAllLines(log)) {
      if (line.startsWith("PROBE ")) {
        last = line;
      }
    }
    if (exit != 0 || last == null) {
      throw new IOException(
          "probe " + variant + " of " + bytes + " bytes exited " + exit + "; see " + log);
    }
    // The log is appended to by every probe; the answer is the last line, which this one wrote.
    Files.delete(log);
    double seconds = Double.parseDouble(field(last, "seconds"));
    double cpuSeconds = Double.parseDouble(field(last, "cpuSeconds"));
    long hwm = Long.parseLong(field(last, "hwmKiB"));
    return new Outcome(seconds, cpuSeconds, hwm);
  }

  private static String field(String line, String name) {
    for (String part : line.split(" ")) {
      if (part.startsWith(name + "=")) {
        return part.substring(name.length() + 1);
      }
    }
    throw new IllegalArgumentException("no " + name + " in " + line);
  }

  /** VmHWM from /proc/self/status: the most this process ever had resident. */
  static long peakResidentKib() throws IOException {
    return procStatusKib(Path.of("/proc/self/status"), "VmHWM:");
  }

  static long procStatusKib(Path status, String field) throws IOException {
    for (String line : Files.readAllLines(status)) {
      if (line.startsWith(field)) {
        return Long.parseLong(line.substring(field.length()).trim().split("\\s+")[0]);
      }
    }
    return -1;
  }

  /** A growable array whose contents can be handed on without one more copy of the state. */
  private static final class ExposedBuffer extends ByteArrayOutputStream {
    ByteBuffer contents() {
      return ByteBuffer.wrap(buf, 0, count);
    }
  }
}
