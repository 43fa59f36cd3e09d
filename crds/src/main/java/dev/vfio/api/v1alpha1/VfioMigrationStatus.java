package dev.vfio.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.List;

/** Observed state of a migration. Written only by the operator. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class VfioMigrationStatus extends SchemaObject {
  @JsonPropertyDescription("The metadata.generation this status reflects.")
  private Long observedGeneration;

  @JsonPropertyDescription("Pending, Running, Succeeded or Failed.")
  private MigrationPhase phase;

  @JsonPropertyDescription("Preparing, Precopy, StopCopy, Loading, Resuming or RollingBack.")
  private Stage stage;

  @JsonPropertyDescription("Node of the source pod (empty for a snapshot source).")
  private String sourceNode;

  @JsonPropertyDescription(
      "UID of the source pod (empty for a snapshot source). While the migration runs, and while "
          + "sourceState is Stopped, a snapshot or migration of that pod is refused (SourceStopped).")
  private String sourcePodUid;

  @JsonPropertyDescription(
      "Running while the source keeps the state or gets it back if the migration fails; Stopped "
          + "once its devices are stopped for good (the switchover was committed, or a storage "
          + "migration's save finished, and nothing resumed them since): the state runs, or will run "
          + "once its agent is back, only in the target. Empty for a snapshot source.")
  private SourceState sourceState;

  @JsonPropertyDescription("Node of the target pod.")
  private String targetNode;

  @JsonPropertyDescription("Per-device results, keyed by target address.")
  private List<DeviceResult> devices;

  @JsonPropertyDescription("Bytes of device state moved.")
  private Long bytesTransferred;

  @JsonPropertyDescription("Bytes moved and the estimated total.")
  private Progress progress;

  @JsonPropertyDescription("PRE_COPY rounds run before switchover.")
  private Integer precopyRounds;

  @JsonPropertyDescription("Time from the source freeze to the target RUNNING.")
  private Long downtimeMillis;

  @JsonPropertyDescription("Average transfer rate.")
  private Long throughputBytesPerSecond;

  @JsonPropertyDescription("RFC 3339 time the work started.")
  private String startTime;

  @JsonPropertyDescription("RFC 3339 time the migration ended.")
  private String completionTime;

  @JsonPropertyDescription("Conditions; Ready is always present.")
  private List<Condition> conditions;

  public Long getObservedGeneration() {
    return observedGeneration;
  }

  public void setObservedGeneration(Long observedGeneration) {
    this.observedGeneration = observedGeneration;
  }

  public MigrationPhase getPhase() {
    return phase;
  }

  public void setPhase(MigrationPhase phase) {
    this.phase = phase;
  }

  public Stage getStage() {
    return stage;
  }

  public void setStage(Stage stage) {
    this.stage = stage;
  }

  public String getSourceNode() {
    return sourceNode;
  }

  public void setSourceNode(String sourceNode) {
    this.sourceNode = sourceNode;
  }

  public String getSourcePodUid() {
    return sourcePodUid;
  }

  public void setSourcePodUid(String sourcePodUid) {
    this.sourcePodUid = sourcePodUid;
  }

  public SourceState getSourceState() {
    return sourceState;
  }

  public void setSourceState(SourceState sourceState) {
    this.sourceState = sourceState;
  }

  public String getTargetNode() {
    return targetNode;
  }

  public void setTargetNode(String targetNode) {
    this.targetNode = targetNode;
  }

  public List<DeviceResult> getDevices() {
    return devices;
  }

  public void setDevices(List<DeviceResult> devices) {
    this.devices = devices;
  }

  public Long getBytesTransferred() {
    return bytesTransferred;
  }

  public void setBytesTransferred(Long bytesTransferred) {
    this.bytesTransferred = bytesTransferred;
  }

  public Progress getProgress() {
    return progress;
  }

  public void setProgress(Progress progress) {
    this.progress = progress;
  }

  public Integer getPrecopyRounds() {
    return precopyRounds;
  }

  public void setPrecopyRounds(Integer precopyRounds) {
    this.precopyRounds = precopyRounds;
  }

  public Long getDowntimeMillis() {
    return downtimeMillis;
  }

  public void setDowntimeMillis(Long downtimeMillis) {
    this.downtimeMillis = downtimeMillis;
  }

  public Long getThroughputBytesPerSecond() {
    return throughputBytesPerSecond;
  }

  public void setThroughputBytesPerSecond(Long throughputBytesPerSecond) {
    this.throughputBytesPerSecond = throughputBytesPerSecond;
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

  public List<Condition> getConditions() {
    return conditions;
  }

  public void setConditions(List<Condition> conditions) {
    this.conditions = conditions;
  }
}
