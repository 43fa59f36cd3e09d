package dev.vfio.agent.blobs;

import java.util.Objects;

/**
 * What one blob belongs to, bound into its tags: a blob moved to another snapshot's directory or
 * renamed to another device of the same snapshot fails its first tag.
 *
 * @param setUid the UID of the VfioSnapshot, or of the VfioMigration through storage, whose blobs
 *     these are (the task's {@code spec.blobSetUid}): a snapshot deleted and made again under the
 *     same name has a new one
 * @param device the source device the state was saved from, as the blob's file is named
 */
public record BlobIdentity(String setUid, String device) {
  public BlobIdentity {
    Objects.requireNonNull(setUid, "setUid");
    Objects.requireNonNull(device, "device");
    if (setUid.indexOf('\0') >= 0 || device.indexOf('\0') >= 0) {
      throw new IllegalArgumentException("a blob identity holds no NUL character");
    }
  }
}
