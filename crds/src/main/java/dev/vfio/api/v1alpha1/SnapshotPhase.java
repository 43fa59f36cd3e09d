package dev.vfio.api.v1alpha1;

/** Lifecycle phase of a VfioSnapshot. */
public enum SnapshotPhase {
  Pending, Running, Ready, Failed
}
