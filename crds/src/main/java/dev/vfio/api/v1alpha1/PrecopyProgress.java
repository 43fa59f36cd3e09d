package dev.vfio.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/**
 * How the PRE_COPY phase of a save stands, over all its devices: what they still offer, how many
 * rounds ran, how often a device re-initialized, and when the switch to STOP_COPY may come.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class PrecopyProgress extends SchemaObject {
  @JsonPropertyDescription(
      "Initial bytes the devices still offer, summed (VFIO_MIG_GET_PRECOPY_INFO after the last round of each). The switch to STOP_COPY waits until it is 0.")
  private Long initialBytes;

  @JsonPropertyDescription("Bytes the running devices dirtied since they were read, summed.")
  private Long dirtyBytes;

  @JsonPropertyDescription("PRE_COPY rounds run so far, the most of any device.")
  private Integer rounds;

  @JsonPropertyDescription(
      "Times a device raised VFIO_PRECOPY_INFO_REINIT (new initial data, which is sent again before the switch to STOP_COPY), summed.")
  private Integer reinits;

  @JsonPropertyDescription(
      "Estimated milliseconds until the switch to STOP_COPY: the bytes still pending at the rate PRE_COPY has read so far, for the slowest device; 0 once every device may switch. Absent until a device has been read from.")
  private Long estimatedSwitchoverMillis;

  public Long getInitialBytes() {
    return initialBytes;
  }

  public void setInitialBytes(Long initialBytes) {
    this.initialBytes = initialBytes;
  }

  public Long getDirtyBytes() {
    return dirtyBytes;
  }

  public void setDirtyBytes(Long dirtyBytes) {
    this.dirtyBytes = dirtyBytes;
  }

  public Integer getRounds() {
    return rounds;
  }

  public void setRounds(Integer rounds) {
    this.rounds = rounds;
  }

  public Integer getReinits() {
    return reinits;
  }

  public void setReinits(Integer reinits) {
    this.reinits = reinits;
  }

  public Long getEstimatedSwitchoverMillis() {
    return estimatedSwitchoverMillis;
  }

  public void setEstimatedSwitchoverMillis(Long estimatedSwitchoverMillis) {
    this.estimatedSwitchoverMillis = estimatedSwitchoverMillis;
  }
}
