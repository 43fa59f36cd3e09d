package dev.vfio.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.List;

/** Observed state of a schedule. Written only by the operator. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class VfioSnapshotScheduleStatus extends SchemaObject {
  @JsonPropertyDescription("The metadata.generation this status reflects.")
  private Long observedGeneration;

  @JsonPropertyDescription(
      "RFC 3339 time of the last run this schedule acted on (took, or skipped), in UTC.")
  private String lastScheduleTime;

  @JsonPropertyDescription("Name of the last snapshot this schedule created.")
  private String lastSnapshotName;

  @JsonPropertyDescription("RFC 3339 time of the next run; empty while suspended.")
  private String nextScheduleTime;

  @JsonPropertyDescription("Its snapshots that have not ended yet.")
  private List<String> active;

  @JsonPropertyDescription("How many of its snapshots exist.")
  private Integer snapshotCount;

  @JsonPropertyDescription("Bytes of device state over its Ready snapshots.")
  private Long totalBytes;

  @JsonPropertyDescription("Conditions; Ready is always present.")
  private List<Condition> conditions;

  public Long getObservedGeneration() {
    return observedGeneration;
  }

  public void setObservedGeneration(Long observedGeneration) {
    this.observedGeneration = observedGeneration;
  }

  public String getLastScheduleTime() {
    return lastScheduleTime;
  }

  public void setLastScheduleTime(String lastScheduleTime) {
    this.lastScheduleTime = lastScheduleTime;
  }

  public String getLastSnapshotName() {
    return lastSnapshotName;
  }

  public void setLastSnapshotName(String lastSnapshotName) {
    this.lastSnapshotName = lastSnapshotName;
  }

  public String getNextScheduleTime() {
    return nextScheduleTime;
  }

  public void setNextScheduleTime(String nextScheduleTime) {
    this.nextScheduleTime = nextScheduleTime;
  }

  public List<String> getActive() {
    return active;
  }

  public void setActive(List<String> active) {
    this.active = active;
  }

  public Integer getSnapshotCount() {
    return snapshotCount;
  }

  public void setSnapshotCount(Integer snapshotCount) {
    this.snapshotCount = snapshotCount;
  }

  public Long getTotalBytes() {
    return totalBytes;
  }

  public void setTotalBytes(Long totalBytes) {
    this.totalBytes = totalBytes;
  }

  public List<Condition> getConditions() {
    return conditions;
  }

  public void setConditions(List<Condition> conditions) {
    this.conditions = conditions;
  }
}
