package dev.vfio.api.v1alpha1;

import com.fasterxml.jackson.databind.annotation.JsonDeserialize;

/** What deleting a schedule does to the snapshots it made. */
@JsonDeserialize(using = SchemaEnumDeserializer.class)
public enum SnapshotsOnDeletion {
  /** They stay, and expire by their own ttl if they have one. */
  Retain,
  /** They are deleted with it (their blobs as each snapshot's deletionPolicy says). */
  Delete
}
