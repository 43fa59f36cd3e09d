package dev.vfio.agent.blobs;

/**
 * What the 32-byte digest in a blob's trailer is. The per-chunk CRC-32C catches accidental damage
 * either way; the digest names the state as a whole (docs/blob-format.md, "Digest").
 */
public enum BlobDigest {
  /** Format version 1: one SHA-256 over the whole uncompressed state, which one core computes. */
  SHA256,
  /**
   * SHA-256 over the SHA-256 of each chunk's uncompressed state, in chunk order. The chunks hash on
   * as many cores as there are, so the digest no longer caps a save at one core's speed.
   */
  SHA256_CHUNKS,
  /**
   * No digest, the trailer holds zeros. Only a live-migration stream carries none: mutual TLS
   * authenticates every byte on the wire, and the CRC-32C of each chunk still covers the bytes from
   * one agent's memory to the other's.
   */
  NONE
}
