package dev.vfio.agent.blobs;

/**
 * How a blob proves it was written by a holder of the operator's blob key
 * (docs/decisions/0008-authenticated-blobs.md, docs/decisions/0010-gcm-blobs.md). The chunk CRCs
 * catch damage either way; only a tag catches a change made by someone who recomputed them.
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
   * device. The state itself is stored in the clear. What agents saved before AES_256_GCM; still
   * read.
   */
  HMAC_SHA256,
  /**
   * Every chunk's stored bytes encrypted with AES-256-GCM, its 16-byte tag in the frame, and the
   * end record tagged by GCM over no plaintext, under a key derived as for HMAC_SHA256 but for this
   * algorithm: the state is unreadable without the operator's key, and changed state fails its tag.
   * What agents save by default.
   */
  AES_256_GCM
}
