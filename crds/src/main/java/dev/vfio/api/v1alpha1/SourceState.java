package dev.vfio.api.v1alpha1;

import com.fasterxml.jackson.databind.annotation.JsonDeserialize;

/**
 * What a migration left its source pod's devices in: whether the source may run the state again.
 * Written by the operator; a snapshot or migration of a {@link #Stopped} source is refused
 * (SourceStopped), since resuming it would run the state twice.
 */
@JsonDeserialize(using = SchemaEnumDeserializer.class)
public enum SourceState {
  /** The source keeps the state, or gets it back if the migration fails. */
  Running,
  /**
   * The source's devices are stopped for good: the switchover was committed, or a storage
   * migration's save finished, and nothing resumed them since. The state runs, or will run once its
   * agent is back, in the target only.
   */
  Stopped
}
