package dev.vfio.api.v1alpha1;

import com.fasterxml.jackson.databind.annotation.JsonDeserialize;

/**
 * Whether a blob carries a cryptographic digest of the device state besides the CRC-32C of every
 * chunk (docs/decisions/0004-blob-digest.md).
 */
@JsonDeserialize(using = SchemaEnumDeserializer.class)
public enum Digest {
  None,
  SHA256
}
