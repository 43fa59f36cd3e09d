package dev.vfio.agent.blobs;

/**
 * How a blob proves it was written by a holder of the operator's blob key
 * (docs/decisions/0008-authenticated-blobs.md). The chunk CRCs catch damage either way; only a tag
 * catches a change made by someone who recomputed them.
 */
public enum BlobAuthentication {
  /**
   * No tags: what a live-migration stream carries (mutual TLS authenticates it) and what {@code
   * vfioctl save} writes; a Load refuses such a blob unless the agent is told to accept them.
   */
  NONE,
  /**
   * A 16-byte HMAC-SHA-256 tag on every chunk's stored bytes and on the end record, under a key
   * derived from the operator's blob key, the blob's random salt, its snapshot's UID and its
   * device. The state itself is stored in the clear.
   */
  HMAC_SHA256
}
