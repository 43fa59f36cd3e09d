package dev.vfio.api.v1alpha1;

/** The step an operation is in,  for kubectl get and for troubleshooting. */
public enum Stage {
  Preparing, Quiescing, Precopy, StopCopy, Resuming, Loading, Receiving, Sending, Deleting, RollingBack, Done
}
