package dev.vfio.api.v1alpha1;

/**
 * Whether a blob carries a cryptographic digest of the device state besides the CRC-32C of every
 * chunk (docs/decisions/0004-blob-digest.md).
 */
public enum Digest {
  None, SHA256
}
