package dev.vfio.agent.blobs;

import java.nio.file.Path;

/**
 * Room left on the volume behind one storage claim.
 *
 * @param claim the storage claim name
 * @param root where the claim is mounted in this agent
 * @param freeBytes bytes this agent may still write, {@link java.nio.file.FileStore#getUsableSpace}
 * @param totalBytes size of the volume
 */
public record ClaimSpace(String claim, Path root, long freeBytes, long totalBytes) {}
