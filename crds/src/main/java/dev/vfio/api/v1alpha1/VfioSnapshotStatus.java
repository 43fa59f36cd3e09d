package dev.vfio.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.List;

/** Observed state of a snapshot. Written only by the operator. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class VfioSnapshotStatus extends SchemaObject {
  @JsonPropertyDescription("The metadata.generation this status reflects.")
  private Long observedGeneration;

  @JsonPropertyDescription("Pending, Running, Ready or Failed.")
  private SnapshotPhase phase;

  @JsonPropertyDescription("What the node agent is doing now.")
  private Stage stage;

  @JsonPropertyDescription("Node the pod and its devices are on.")
  private String nodeName;

  @JsonPropertyDescription("True once every blob is written and verified.")
  private Boolean readyToUse;

  @JsonPropertyDescription("Number of devices being saved.")
  private Integer deviceCount;

  @JsonPropertyDescription("Per-device results.")
  private List<DeviceResult> devices;

  @JsonPropertyDescription("Bytes of device state over all devices.")
  private Long totalBytes;

  @JsonPropertyDescription("totalBytes in human units, for kubectl get.")
  private String size;

  @JsonPropertyDescription("Bytes saved so far and the estimated total.")
  private Progress progress;

  @JsonPropertyDescription(
      "Time from the first device leaving RUNNING to the last one running again.")
  private Long downtimeMillis;

  @JsonPropertyDescription("RFC 3339 time the work started.")
  private String startTime;

  @JsonPropertyDescription("RFC 3339 time the snapshot became Ready or Failed.")
  private String completionTime;

  @JsonPropertyDescription("The VfioNodeTask doing the work.")
  private String taskName;

  @JsonPropertyDescription("Conditions; Ready is always present.")
  private List<Condition> conditions;

  public Long getObservedGeneration() {
    return observedGeneration;
  }

  public void setObservedGeneration(Long observedGeneration) {
    this.observedGeneration = observedGeneration;
  }

  public SnapshotPhase getPhase() {
    return phase;
  }

  public void setPhase(SnapshotPhase phase) {
    this.phase = phase;
  }

  public Stage getStage() {
    return stage;
  }

  public void setStage(Stage stage) {
    this.stage = stage;
  }

  public String getNodeName() {
    return nodeName;
  }

  public void setNodeName(String nodeName) {
    this.nodeName = nodeName;
  }

  public Boolean getReadyToUse() {
    return readyToUse;
  }

  public void setReadyToUse(Boolean readyToUse) {
    this.readyToUse = readyToUse;
  }

  public Integer getDeviceCount() {
    return deviceCount;
  }

  public void setDeviceCount(Integer deviceCount) {
    this.deviceCount = deviceCount;
  }

  public List<DeviceResult> getDevices() {
    return devices;
  }

  public void setDevices(List<DeviceResult> devices) {
    this.devices = devices;
  }

  public Long getTotalBytes() {
    return totalBytes;
  }

  public void setTotalBytes(Long totalBytes) {
    this.totalBytes = totalBytes;
  }

  public String getSize() {
    return size;
  }

  public void setSize(String size) {
    this.size = size;
  }

  public Progress getProgress() {
    return progress;
  }

  public void setProgress(Progress progress) {
    this.progress = progress;
  }

  public Long getDowntimeMillis() {
    return downtimeMillis;
  }

  public void setDowntimeMillis(Long downtimeMillis) {
    this.downtimeMillis = downtimeMillis;
  }

  public String getStartTime() {
    return startTime;
  }

  public void setStartTime(String startTime) {
    this.startTime = startTime;
  }

  public String getCompletionTime() {
    return completionTime;
  }

  public void setCompletionTime(String completionTime) {
    this.completionTime = completionTime;
  }

  public String getTaskName() {
    return taskName;
  }

  public void setTaskName(String taskName) {
    this.taskName = taskName;
  }

  public List<Condition> getConditions() {
    return conditions;
  }

  public void setConditions(List<Condition> conditions) {
    this.conditions = conditions;
  }
}
