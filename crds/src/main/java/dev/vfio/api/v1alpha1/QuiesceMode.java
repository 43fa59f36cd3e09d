package dev.vfio.api.v1alpha1;

/** How a pod's processes are held still while its devices are stopped. */
public enum QuiesceMode {
  Freeze, None
}
