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
  Sending,
  Deleting,
  RollingBack,
  Done
}
