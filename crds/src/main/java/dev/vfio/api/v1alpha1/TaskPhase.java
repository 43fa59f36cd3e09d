package dev.vfio.api.v1alpha1;

import com.fasterxml.jackson.databind.annotation.JsonDeserialize;

/** Lifecycle phase of a VfioNodeTask. */
@JsonDeserialize(using = SchemaEnumDeserializer.class)
public enum TaskPhase {
  Pending,
  Running,
  Succeeded,
  Failed,
  Cancelled
}
