package dev.vfio.api.v1alpha1;

import com.fasterxml.jackson.databind.annotation.JsonDeserialize;

/** The step an operation is in, for kubectl get and for troubleshooting. */
@JsonDeserialize(using = SchemaEnumDeserializer.class)
public enum Stage {
  Preparing,
  Quiescing,
  Precopy,
  StopCopy,
  Resuming,
  Loading,
  Receiving,
  /** A Receive holds all the state in its stopped devices and waits for the switchover. */
  Loaded,
  Sending,
  /** A Send streamed all the state, its devices stopped, and waits for the switchover. */
  Sent,
  Deleting,
  RollingBack,
  Done
}
