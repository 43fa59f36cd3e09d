package dev.vfio.api.v1alpha1;

import com.fasterxml.jackson.databind.annotation.JsonDeserialize;

/** Compression of the device state inside a blob. */
@JsonDeserialize(using = SchemaEnumDeserializer.class)
public enum Compression {
  None,
  Zstd
}
