package dev.vfio.api.v1alpha1;

import com.fasterxml.jackson.databind.annotation.JsonDeserialize;

/** How device state travels from source to target. */
@JsonDeserialize(using = SchemaEnumDeserializer.class)
public enum Transport {
  Auto,
  Direct,
  Storage
}
