package dev.vfio.api.v1alpha1;

import com.fasterxml.jackson.databind.annotation.JsonDeserialize;

/**
 * The operator's decision at the end of a live migration, written into the spec of both its tasks
 * (docs/reliability.md, two-phase switchover). {@code Commit} on the Send task is the commit point:
 * from then on the source never runs again on its own. Abort has no value of its own: it is {@code
 * cancelRequested}, as for any task.
 */
@JsonDeserialize(using = SchemaEnumDeserializer.class)
public enum SwitchoverDecision {
  Commit
}
