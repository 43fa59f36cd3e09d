package dev.vfio.api.v1alpha1;

/** What happens to the blobs when their VfioSnapshot is deleted. */
public enum DeletionPolicy {
  Delete, Retain
}
