package dev.vfio.api.v1alpha1;

import com.fasterxml.jackson.databind.annotation.JsonDeserialize;

/**
 * The kinds of node-local work an agent performs. {@code Resume} returns a pod's devices to RUNNING
 * and thaws it: the rollback of a migration through storage whose source was left stopped.
 */
@JsonDeserialize(using = SchemaEnumDeserializer.class)
public enum TaskOperation {
  Save,
  Load,
  Send,
  Receive,
  DeleteBlobs,
  Resume
}
