package dev.vfio.api.v1alpha1;

import com.fasterxml.jackson.databind.annotation.JsonDeserialize;

/** Lifecycle phase of a VfioMigration. */
@JsonDeserialize(using = SchemaEnumDeserializer.class)
public enum MigrationPhase {
  Pending,
  Running,
  Succeeded,
  Failed
}
