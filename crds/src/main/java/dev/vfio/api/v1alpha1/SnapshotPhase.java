package dev.vfio.api.v1alpha1;

import com.fasterxml.jackson.databind.annotation.JsonDeserialize;

/** Lifecycle phase of a VfioSnapshot. */
@JsonDeserialize(using = SchemaEnumDeserializer.class)
public enum SnapshotPhase {
  Pending,
  Running,
  Ready,
  Failed
}
