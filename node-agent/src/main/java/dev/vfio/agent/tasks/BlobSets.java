package dev.vfio.agent.tasks;

import dev.vfio.agent.blobs.BlobKeyRing;
import dev.vfio.agent.blobs.BlobKeySource;
import dev.vfio.api.v1alpha1.Reason;
import dev.vfio.api.v1alpha1.VfioNodeTaskSpec;
import java.io.IOException;

/**
 * What a Save and a Load need to seal and check a snapshot's blobs: the keys, and the UID of the
 * snapshot (or migration) the blobs belong to, each failing the task with a reason before any
 * device is touched.
 */
final class BlobSets {
  private BlobSets() {}

  /** The task's {@code spec.blobSetUid}. */
  static String uid(VfioNodeTaskSpec spec) throws TaskFailure {
    String uid = spec.getBlobSetUid();
    if (uid == null || uid.isBlank()) {
      throw new TaskFailure(
          Reason.INVALID_SPEC,
          "the task names no blobSetUid, which seals and checks its blobs: an operator older"
              + " than this agent wrote it; upgrade the operator");
    }
    return uid;
  }

  /** The operator's blob keys, current and previous, from where the chart mounts them. */
  static BlobKeyRing keys(BlobKeySource keys) throws TaskFailure {
    try {
      return keys.ring();
    } catch (IOException e) {
      throw new TaskFailure(
          Reason.BLOB_KEY_MISSING,
          "the operator's blob key is not readable: "
              + e.getMessage()
              + "; check that the operator runs and that the agent mounts its blob key Secret",
          e);
    }
  }
}
