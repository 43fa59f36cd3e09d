package dev.vfio.agent.blobs;

import dev.vfio.agent.vfio.ChunkSink;
import dev.vfio.agent.vfio.DeviceIdentity;
import java.io.IOException;
import java.io.InputStream;

/**
 * Reads one blob from a stream, as {@link BlobStreamWriter} sends it, with the checks {@link
 * BlobReader} makes on a stored blob: {@link #open} checks the magic, version and header; {@link
 * #copyTo} delivers the state chunk by chunk, each chunk checked before delivery, and then checks
 * the trailer. A stream can be read only once, so unlike a file its end is known only after the
 * state was delivered: a receiver must treat what it delivered as untrusted until {@link #copyTo}
 * returns. A stream from {@link BlobStreamWriter} carries no digest ({@link BlobDigest#NONE}); one
 * that carries a digest has it checked. Memory is a few chunks whatever the state size. Not
 * thread-safe.
 *
 * <p>The reader never reads past the trailer, and never closes the stream: the stream belongs to
 * the caller, who can tell the sender the outcome on the same connection or close it. Since it
 * stops at the trailer, it cannot tell whether bytes follow it.
 */
public final class BlobStreamReader {
  private final BlobInput in;
  private final BlobHeader header;
  private boolean consumed;

  private BlobStreamReader(BlobInput in, BlobHeader header) {
    this.in = in;
    this.header = header;
  }

  /** {@link #open(InputStream, String)} for a stream named {@code "stream"} in refusals. */
  public static BlobStreamReader open(InputStream in) throws IOException {
    return open(in, "stream");
  }

  /**
   * Reads the header of the blob that starts at the next byte of {@code in}.
   *
   * @param source what the stream is, for refusals: {@code "stream from 10.0.0.7:40123"}
   * @throws BlobIntegrityException if the stream does not start with a blob of a supported format
   *     version, its header is damaged, or it ends within the header
   */
  public static BlobStreamReader open(InputStream in, String source) throws IOException {
    BlobInput input = BlobInput.ofStream(source, in);
    return new BlobStreamReader(input, BlobDecoder.readHeader(input).header());
  }

  /** The blob's header, as checked by {@link #open}. */
  public BlobHeader header() {
    return header;
  }

  /**
   * Refuses a {@code target} device that cannot load state saved from the blob's device; a receiver
   * calls this before {@link #copyTo}, so the device gets no byte it cannot load.
   *
   * @throws IncompatibleDeviceException naming both devices
   */
  public void requireCompatibleWith(DeviceIdentity target) throws IncompatibleDeviceException {
    BlobDecoder.requireCompatible(in.name(), header, target);
  }

  /**
   * Delivers the uncompressed state to {@code sink}, each chunk after its length bound and CRC were
   * checked and it decompressed, then reads the trailer and checks its CRC, the state length and
   * the digest, if the stream carries one. Reads nothing after the trailer. Can be called once.
   *
   * @return what the blob held; its path is null and its stored bytes count the whole stream
   * @throws BlobIntegrityException if the stream ends early, a chunk fails its checks, or the
   *     trailer does not match the state delivered
   */
  public BlobSummary copyTo(ChunkSink sink) throws IOException {
    if (consumed) {
      throw new IllegalStateException("blob " + in.name() + " was already read");
    }
    consumed = true;
    // Mutual TLS authenticates a stream; a sealed one is refused, there is no key for it here.
    try (BlobDecoder decoder = new BlobDecoder(header, true, null)) {
      return decoder.readState(in, sink, null);
    }
  }
}
