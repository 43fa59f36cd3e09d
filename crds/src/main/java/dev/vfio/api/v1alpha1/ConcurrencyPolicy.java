package dev.vfio.api.v1alpha1;

import com.fasterxml.jackson.databind.annotation.JsonDeserialize;

/** What a schedule does when a run is due while its previous snapshot has not ended. */
@JsonDeserialize(using = SchemaEnumDeserializer.class)
public enum ConcurrencyPolicy {
  /** The run is skipped; the next one is taken as usual. */
  Forbid,
  /**
   * The snapshot is created anyway; it waits Pending (PodBusy) until the previous one ended, since
   * operations on one pod run one at a time.
   */
  Allow
}
