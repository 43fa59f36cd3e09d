package dev.vfio.api.v1alpha1;

/** Lifecycle phase of a VfioMigration. */
public enum MigrationPhase {
  Pending, Running, Succeeded, Failed
}
