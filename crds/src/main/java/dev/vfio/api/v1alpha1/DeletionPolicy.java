package dev.vfio.api.v1alpha1;

import com.fasterxml.jackson.databind.annotation.JsonDeserialize;

/** What happens to the blobs when their VfioSnapshot is deleted. */
@JsonDeserialize(using = SchemaEnumDeserializer.class)
public enum DeletionPolicy {
  Delete,
  Retain
}
