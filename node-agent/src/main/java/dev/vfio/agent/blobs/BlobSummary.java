package dev.vfio.agent.blobs;

import java.nio.file.Path;

/**
 * What a committed or verified blob holds.
 *
 * @param path the blob file
 * @param stateBytes length of the uncompressed device state
 * @param storedBytes size of the blob file, framing and header included
 * @param sha256Hex the trailer's digest of the uncompressed device state, lowercase hex; null for a
 *     stream, which carries none ({@link BlobDigest})
 */
public record BlobSummary(Path path, long stateBytes, long storedBytes, String sha256Hex) {}
