package dev.vfio.agent.blobs;

import com.fasterxml.jackson.annotation.JsonCreator;
import dev.vfio.agent.vfio.DeviceIdentity;
import dev.vfio.agent.vfio.MigrationFlags;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Objects;

/**
 * Where a blob's state came from, stored as JSON at the start of the blob so that a loader can
 * refuse an incompatible device before reading any state.
 *
 * @param formatVersion the blob format version; {@link #FORMAT_VERSION} for blobs written now
 * @param device the device the state was saved from
 * @param migrationFlags the device's migration flags by name: STOP_COPY, P2P, PRE_COPY
 * @param kernelRelease {@code uname -r} of the node that saved the state
 * @param node the node that saved the state
 * @param namespace namespace of the pod
 * @param pod the pod whose device this is
 * @param snapshot the VfioSnapshot this blob belongs to
 * @param createdAt when the state was saved, RFC 3339
 * @param compression how the chunks are stored
 * @param digest what the trailer's digest is; {@link BlobDigest#SHA256} for format version 1, whose
 *     headers do not name it; null in a header not yet written, whose writer picks it
 * @param seal how the chunks are authenticated ({@link BlobSeal}); {@link BlobSeal#NONE} for a
 *     header of format version 1 or 2, which has none, and for a header not yet written, whose
 *     writer seals it or not
 */
public record BlobHeader(
    int formatVersion,
    DeviceIdentity device,
    List<String> migrationFlags,
    String kernelRelease,
    String node,
    String namespace,
    String pod,
    String snapshot,
    String createdAt,
    BlobCompression compression,
    BlobDigest digest,
    BlobSeal seal) {

  /** The format version this agent writes. */
  public static final int FORMAT_VERSION = 3;

  /** The first format version whose header can name a seal and whose chunks can carry tags. */
  public static final int SEALED_SINCE_VERSION = 3;

  /** The oldest format version this agent reads. */
  public static final int OLDEST_READABLE_VERSION = 1;

  @JsonCreator
  public BlobHeader {
    if (formatVersion == 1 && digest == null) {
      digest = BlobDigest.SHA256;
    }
    if (seal == null) {
      seal = BlobSeal.NONE;
    }
    Objects.requireNonNull(device, "device");
    migrationFlags = List.copyOf(migrationFlags);
    // Parsing rejects flag names the migration code would not understand on load.
    MigrationFlags.fromNames(migrationFlags);
    Objects.requireNonNull(kernelRelease, "kernelRelease");
    Objects.requireNonNull(node, "node");
    Objects.requireNonNull(namespace, "namespace");
    Objects.requireNonNull(pod, "pod");
    Objects.requireNonNull(snapshot, "snapshot");
    Objects.requireNonNull(compression, "compression");
    try {
      OffsetDateTime.parse(createdAt);
    } catch (DateTimeParseException e) {
      throw new IllegalArgumentException("createdAt is not RFC 3339: " + createdAt, e);
    }
  }

  /** A header whose digest the writer picks: a file's and a stream's differ. */
  public BlobHeader(
      int formatVersion,
      DeviceIdentity device,
      List<String> migrationFlags,
      String kernelRelease,
      String node,
      String namespace,
      String pod,
      String snapshot,
      String createdAt,
      BlobCompression compression) {
    this(
        formatVersion,
        device,
        migrationFlags,
        kernelRelease,
        node,
        namespace,
        pod,
        snapshot,
        createdAt,
        compression,
        null,
        null);
  }

  /** A header whose digest is {@code digest} and whose writer seals it or not. */
  public BlobHeader(
      int formatVersion,
      DeviceIdentity device,
      List<String> migrationFlags,
      String kernelRelease,
      String node,
      String namespace,
      String pod,
      String snapshot,
      String createdAt,
      BlobCompression compression,
      BlobDigest digest) {
    this(
        formatVersion,
        device,
        migrationFlags,
        kernelRelease,
        node,
        namespace,
        pod,
        snapshot,
        createdAt,
        compression,
        digest,
        null);
  }

  /** This header with {@code digest} as the trailer's digest. */
  public BlobHeader withDigest(BlobDigest digest) {
    return new BlobHeader(
        formatVersion,
        device,
        migrationFlags,
        kernelRelease,
        node,
        namespace,
        pod,
        snapshot,
        createdAt,
        compression,
        digest,
        seal);
  }

  /** This header with {@code seal}: what its writer puts in before it writes it. */
  BlobHeader withSeal(BlobSeal seal) {
    return new BlobHeader(
        formatVersion,
        device,
        migrationFlags,
        kernelRelease,
        node,
        namespace,
        pod,
        snapshot,
        createdAt,
        compression,
        digest,
        seal);
  }
}
