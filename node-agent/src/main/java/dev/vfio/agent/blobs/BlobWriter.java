package dev.vfio.agent.blobs;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Pattern;

/**
 * Writes one blob to a file, the {@link BlobOutput} of a save: the state goes to a temporary file
 * beside the blob, and {@link #commit} renames it into place, so a reader never finds a torn blob
 * under a blob's name. Memory is a few chunks whatever the state size. Every {@link
 * #WRITEBACK_BYTES} the file is written back to disk in the background, so that the disk works
 * while the caller reads the device. Not thread-safe.
 *
 * <p>Until {@link #commit} returns, {@link #abort} or {@link #close} deletes the temporary file;
 * after a crash, {@link #temporaryPath} is what a journal deletes.
 */
public final class BlobWriter implements BlobOutput {
  /** Opens the temporary file for writing; the production one is {@link #openOwnerOnly}. */
  @FunctionalInterface
  interface TemporaryFileOpener {
    FileChannel open(Path temporary) throws IOException;
  }

  private static final FileAttribute<Set<PosixFilePermission>> OWNER_ONLY_FILE =
      PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"));
  private static final FileAttribute<Set<PosixFilePermission>> OWNER_ONLY_DIRECTORY =
      PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------"));

  /**
   * A leading dot and a suffix that is not {@code .vfs}: neither a listing of blobs nor a person
   * can take a temporary file for a blob.
   */
  private static final Pattern TEMPORARY_NAME = Pattern.compile("\\..+\\.tmp-[0-9a-f]{16}");

  private static final SecureRandom RANDOM = new SecureRandom();

  /**
   * Written bytes after which the kernel is asked to start writing them back. Without it the page
   * cache holds the whole blob until {@link #commit}'s fsync, which then waits for all of it while
   * the device sits idle; with it, the disk writes while the device is still being read.
   */
  static final long WRITEBACK_BYTES = 16L << 20;

  /**
   * Runs the early writebacks off the saving thread, which goes on reading the device meanwhile.
   * Daemon threads that end when idle: a writer never keeps the agent from stopping.
   */
  private static final ExecutorService WRITEBACK =
      Executors.newCachedThreadPool(
          runnable -> {
            Thread thread = new Thread(runnable, "blob-writeback");
            thread.setDaemon(true);
            return thread;
          });

  /** What a blob whose header names no digest carries: the one a person checking it expects. */
  static final BlobDigest DEFAULT_DIGEST = BlobDigest.SHA256_CHUNKS;

  private enum Stage {
    OPEN,
    COMMITTED,
    ABORTED
  }

  private final Path target;
  private final Path temporary;
  private final FileChannel channel;
  private final BlobEncoder encoder;
  private Stage stage = Stage.OPEN;
  private long notWrittenBack;

  /** The early writeback in flight, if any; at most one per blob. */
  private Future<?> writeback;

  private BlobWriter(
      Path target,
      Path temporary,
      FileChannel channel,
      BlobHeader header,
      BlobKey.Sealing sealing) {
    this.target = target;
    this.temporary = temporary;
    this.channel = channel;
    this.encoder =
        new BlobEncoder(
            bytes -> {
              int n = bytes.remaining();
              while (bytes.hasRemaining()) {
                channel.write(bytes);
              }
              startWriteback(n);
            },
            header.compression(),
            header.digest() != null ? header.digest() : DEFAULT_DIGEST,
            false,
            sealing);
  }

  /**
   * Starts a blob that {@link #commit} will publish at {@code target}, creating missing parent
   * directories owner-only, and writes its header. The blob carries the digest the header names,
   * {@link #DEFAULT_DIGEST} if it names none.
   *
   * @throws IllegalArgumentException if the header is not of {@link BlobHeader#FORMAT_VERSION} or
   *     names the digest of version 1
   */
  public static BlobWriter create(Path target, BlobHeader header) throws IOException {
    return create(target, header, null, BlobWriter::openOwnerOnly);
  }

  /**
   * {@link #create(Path, BlobHeader)} for a blob sealed with {@code key} as the blob of {@code
   * identity}: every chunk and the end record carry a tag that only a holder of the key can make.
   */
  public static BlobWriter create(
      Path target, BlobHeader header, BlobKey key, BlobIdentity identity) throws IOException {
    return create(target, header, key.newSeal(identity), BlobWriter::openOwnerOnly);
  }

  /**
   * {@link #create(Path, BlobHeader, BlobKey, BlobIdentity)} with a seal of the given kind rather
   * than the default: for comparing them, since a reader takes either.
   */
  public static BlobWriter create(
      Path target,
      BlobHeader header,
      BlobKey key,
      BlobIdentity identity,
      BlobAuthentication authentication)
      throws IOException {
    return create(target, header, key.newSeal(identity, authentication), BlobWriter::openOwnerOnly);
  }

  static BlobWriter create(Path target, BlobHeader header, TemporaryFileOpener opener)
      throws IOException {
    return create(target, header, null, opener);
  }

  static BlobWriter create(
      Path target, BlobHeader header, BlobKey.Sealing sealing, TemporaryFileOpener opener)
      throws IOException {
    BlobEncoder.requireCurrentVersion(header);
    if (header.digest() == BlobDigest.SHA256) {
      throw new IllegalArgumentException(
          "the whole-state SHA-256 of format version 1 is read, " + "never written");
    }
    Path absolute = target.toAbsolutePath();
    createDirectories(absolute.getParent());
    Path temporary = absolute.resolveSibling(temporaryName(absolute.getFileName().toString()));
    FileChannel channel = opener.open(temporary);
    BlobWriter writer = new BlobWriter(absolute, temporary, channel, header, sealing);
    try {
      writer.encoder.writeHeader(header);
      return writer;
    } catch (IOException | RuntimeException e) {
      writer.abortQuietly(e);
      throw e;
    }
  }

  /** Whether {@code fileName} is what {@link BlobWriter} names its temporary files. */
  static boolean isTemporaryName(String fileName) {
    return TEMPORARY_NAME.matcher(fileName).matches();
  }

  /** Where the state goes until {@link #commit}. */
  public Path temporaryPath() {
    return temporary;
  }

  /** Where {@link #commit} publishes the blob. */
  public Path targetPath() {
    return target;
  }

  @Override
  public void write(ByteBuffer state) throws IOException {
    requireOpen();
    encoder.write(state);
  }

  @Override
  public ByteBuffer lend() throws IOException {
    requireOpen();
    return encoder.lend();
  }

  @Override
  public void lentFilled(ByteBuffer lent) throws IOException {
    requireOpen();
    encoder.lentFilled(lent);
  }

  /**
   * Ends the blob, makes it durable and publishes it under its name: fsync the file, rename it over
   * {@link #targetPath}, fsync the directory. If this fails before the rename, the temporary file
   * is gone; if the directory fsync fails, the blob is in place but may not survive a crash.
   */
  @Override
  public BlobSummary commit() throws IOException {
    requireOpen();
    try {
      BlobSummary summary = encoder.finish(target);
      awaitWriteback();
      channel.force(true);
      channel.close();
      Files.move(temporary, target, StandardCopyOption.ATOMIC_MOVE);
      stage = Stage.COMMITTED;
      fsyncDirectory(target.getParent());
      return summary;
    } catch (IOException | RuntimeException e) {
      if (stage != Stage.COMMITTED) {
        abortQuietly(e);
      }
      throw e;
    } finally {
      encoder.close();
    }
  }

  /** Drops the blob: deletes the temporary file. Does nothing once committed or aborted. */
  @Override
  public void abort() throws IOException {
    if (stage == Stage.COMMITTED || stage == Stage.ABORTED) {
      return;
    }
    stage = Stage.ABORTED;
    encoder.close();
    try {
      // Its failure no longer matters, but the channel must not close under it.
      awaitWriteback();
    } catch (IOException e) {
      // The blob is being dropped; a failed writeback of it changes nothing.
    }
    try {
      channel.close();
    } finally {
      Files.deleteIfExists(temporary);
    }
  }

  /** {@link #abort}s unless committed. */
  @Override
  public void close() throws IOException {
    abort();
  }

  private void requireOpen() {
    if (stage == Stage.OPEN && encoder.failed()) {
      throw new IllegalStateException("blob writer for " + target + " failed; abort it");
    }
    if (stage != Stage.OPEN) {
      throw new IllegalStateException("blob writer for " + target + " is " + stage);
    }
  }

  /**
   * Counts {@code written} bytes and, once {@link #WRITEBACK_BYTES} are waiting and no writeback
   * runs, asks the kernel to write back what the file holds so far (fdatasync on another thread). A
   * writeback that failed fails the next write, as the final fsync would.
   */
  private void startWriteback(int written) throws IOException {
    notWrittenBack += written;
    if (notWrittenBack < WRITEBACK_BYTES) {
      return;
    }
    if (writeback != null) {
      if (!writeback.isDone()) {
        return;
      }
      awaitWriteback();
    }
    notWrittenBack = 0;
    writeback =
        WRITEBACK.submit(
            () -> {
              channel.force(false);
              return null;
            });
  }

  private void awaitWriteback() throws IOException {
    Future<?> pending = writeback;
    writeback = null;
    if (pending == null) {
      return;
    }
    try {
      pending.get();
    } catch (ExecutionException e) {
      if (e.getCause() instanceof IOException io) {
        throw new IOException("writing back " + temporary + " failed: " + io.getMessage(), io);
      }
      throw new IllegalStateException("writing back " + temporary + " failed", e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new java.io.InterruptedIOException("interrupted while writing back " + temporary);
    }
  }

  private void abortQuietly(Exception cause) {
    try {
      abort();
    } catch (IOException e) {
      cause.addSuppressed(e);
    }
  }

  static FileChannel openOwnerOnly(Path temporary) throws IOException {
    return FileChannel.open(
        temporary,
        Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE),
        OWNER_ONLY_FILE);
  }

  private static String temporaryName(String blobName) {
    byte[] random = new byte[8];
    RANDOM.nextBytes(random);
    return "." + blobName + ".tmp-" + HexFormat.of().formatHex(random);
  }

  /**
   * Creates each missing directory owner-only and fsyncs its parent, so that the blob's directory
   * entry survives a crash along with the blob.
   */
  private static void createDirectories(Path directory) throws IOException {
    if (Files.isDirectory(directory)) {
      return;
    }
    createDirectories(directory.getParent());
    try {
      Files.createDirectory(directory, OWNER_ONLY_DIRECTORY);
    } catch (FileAlreadyExistsException e) {
      // Another writer of the same snapshot created it first; a non-directory there is an error.
      if (!Files.isDirectory(directory)) {
        throw e;
      }
      return;
    }
    fsyncDirectory(directory.getParent());
  }

  private static void fsyncDirectory(Path directory) throws IOException {
    try (FileChannel dir = FileChannel.open(directory, StandardOpenOption.READ)) {
      dir.force(true);
    }
  }
}
