package dev.vfio.api.v1alpha1;

/** What happens to the devices once their state is saved. */
public enum AfterSnapshot {
  Resume, KeepStopped
}
