package dev.vfio.api.v1alpha1;

/** Lifecycle phase of a VfioNodeTask. */
public enum TaskPhase {
  Pending, Running, Succeeded, Failed, Cancelled
}
