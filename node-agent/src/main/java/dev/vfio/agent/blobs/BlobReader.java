package dev.vfio.agent.blobs;

import dev.vfio.agent.vfio.ChunkSink;
import dev.vfio.agent.vfio.DeviceIdentity;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.TreeSet;

/**
 * Reads one blob, checking it as it goes. {@link #open} checks the magic, version and header;
 * {@link #authenticate} supplies the key a sealed blob's tags are checked with; {@link #verify}
 * checks everything else without delivering a byte; {@link #copyTo} delivers the state chunk by
 * chunk, each chunk checked before delivery. Only a full pass can check the digest, so a loader
 * calls {@link #verify} before {@link #copyTo}: a damaged blob is then refused before its first
 * byte reaches a device. Memory is a few chunks whatever the state size. Not thread-safe.
 */
public final class BlobReader implements AutoCloseable {
  private final Path path;
  private final FileChannel channel;
  private final BlobHeader header;
  private final byte[] headerHash;
  private final long chunksOffset;
  private ChunkSeal seal;

  /** Made by the first pass, once the tags' key is known. */
  private BlobDecoder decoder;

  private BlobReader(Path path, FileChannel channel, BlobDecoder.Head head, long chunksOffset) {
    this.path = path;
    this.channel = channel;
    this.header = head.header();
    this.headerHash = head.sha256();
    this.chunksOffset = chunksOffset;
  }

  /**
   * Opens {@code path} and reads its header.
   *
   * @throws BlobIntegrityException if the file is not a blob, is of an unsupported format version,
   *     or its header is damaged
   */
  public static BlobReader open(Path path) throws IOException {
    FileChannel channel = FileChannel.open(path, StandardOpenOption.READ);
    try {
      BlobInput in = BlobInput.ofFile(path, channel, 0);
      BlobDecoder.Head head = BlobDecoder.readHeader(in);
      return new BlobReader(path, channel, head, in.position());
    } catch (IOException | RuntimeException e) {
      channel.close();
      throw e;
    }
  }

  /** The blob's header, as checked by {@link #open}. */
  public BlobHeader header() {
    return header;
  }

  /** The blob file. */
  public Path path() {
    return path;
  }

  /**
   * Refuses a {@code target} device that cannot load state saved from the blob's device.
   *
   * @throws IncompatibleDeviceException naming both devices
   */
  public void requireCompatibleWith(DeviceIdentity target) throws IncompatibleDeviceException {
    BlobDecoder.requireCompatible(path.toString(), header, target);
  }

  /** Whether the blob carries tags, which only a reader {@link #authenticate}d can check. */
  public boolean sealed() {
    return header.seal().sealed();
  }

  /**
   * Makes the passes that follow check every tag against {@code key}, for the blob of {@code
   * identity}; call it before {@link #verify}.
   *
   * @throws BlobUnauthenticatedException if the blob carries no seal, or one of another key
   */
  public void authenticate(BlobKey key, BlobIdentity identity) throws BlobUnauthenticatedException {
    authenticate(BlobKeyRing.of(key), identity);
  }

  /**
   * Makes the passes that follow check every tag against the key of {@code keys} the blob's seal
   * names, current or previous, for the blob of {@code identity}; call it before {@link #verify}.
   *
   * @throws BlobUnauthenticatedException if the blob carries no seal, or one of a key the ring
   *     lacks (the message names the key the blob needs)
   */
  public void authenticate(BlobKeyRing keys, BlobIdentity identity)
      throws BlobUnauthenticatedException {
    if (decoder != null) {
      throw new IllegalStateException("authenticate " + path + " before reading it");
    }
    BlobSeal blobSeal = header.seal();
    if (!blobSeal.sealed()) {
      throw new BlobUnauthenticatedException(
          path,
          "the blob carries no seal (format version "
              + header.formatVersion()
              + "), so nothing proves it was not written or changed by whoever can write the volume");
    }
    BlobKey key =
        keys.key(blobSeal.keyId())
            .orElseThrow(
                () ->
                    new BlobUnauthenticatedException(
                        path,
                        "the blob is sealed with blob key "
                            + blobSeal.keyId()
                            + ", which this agent does not hold (current key "
                            + keys.current().id()
                            + ", keys held "
                            + String.join(", ", new TreeSet<>(keys.ids()))
                            + "); restore the Secret entry "
                            + BlobKeyRing.previousEntry(blobSeal.keyId())
                            + " from a backup"));
    seal =
        ChunkSeal.of(
            blobSeal.authentication(),
            key.blobKey(blobSeal.authentication(), identity, blobSeal.saltBytes()),
            headerHash);
  }

  /**
   * Reads the whole blob and checks every chunk CRC, that every chunk decompresses, the trailer
   * CRC, the state length and the digest, and that nothing follows the trailer.
   *
   * @throws BlobIntegrityException naming the file and the first problem found
   */
  public BlobSummary verify() throws IOException {
    return scan(chunk -> {});
  }

  /**
   * Delivers the uncompressed state to {@code sink}, chunk by chunk, each chunk checked before it
   * is delivered; the digest is checked after the last chunk, when the state has already been
   * delivered. Call {@link #verify} first so a damaged blob delivers nothing.
   *
   * @throws BlobIntegrityException naming the file and the problem
   */
  public void copyTo(ChunkSink sink) throws IOException {
    scan(sink);
  }

  @Override
  public void close() throws IOException {
    if (decoder != null) {
      decoder.close();
    }
    channel.close();
  }

  private BlobSummary scan(ChunkSink sink) throws IOException {
    if (decoder == null) {
      decoder = new BlobDecoder(header, false, seal);
    }
    BlobInput in = BlobInput.ofFile(path, channel, chunksOffset);
    BlobSummary summary = decoder.readState(in, sink, path);
    // Only a file knows where it ends; a stream's reader must stop at the trailer instead.
    long end = in.position();
    long size = channel.size();
    if (size != end) {
      throw in.refusal(
          "trailing garbage: " + (size - end) + " bytes after the trailer ending at byte " + end);
    }
    return summary;
  }
}
