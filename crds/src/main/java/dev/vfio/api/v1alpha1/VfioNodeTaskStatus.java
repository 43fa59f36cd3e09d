package dev.vfio.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.List;

/** Progress and outcome of a task. Written only by the agent of the task's node. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class VfioNodeTaskStatus extends SchemaObject {
  @JsonPropertyDescription("Pending, Running, Succeeded, Failed or Cancelled.")
  private TaskPhase phase;

  @JsonPropertyDescription("What the agent is doing now.")
  private Stage stage;

  @JsonPropertyDescription("Identity of the agent process that runs the task.")
  private String claimedBy;

  @JsonPropertyDescription("Bytes of device state moved so far.")
  private Long bytesDone;

  @JsonPropertyDescription("Estimated total bytes.")
  private Long totalBytes;

  @JsonPropertyDescription("Per-device results.")
  private List<DeviceResult> devices;

  @JsonPropertyDescription("Time the devices were out of RUNNING.")
  private Long downtimeMillis;

  @JsonPropertyDescription("PRE_COPY rounds run.")
  private Integer precopyRounds;

  @JsonPropertyDescription(
      "How PRE_COPY stands while it runs (Save, Send): pending initial and dirty bytes, rounds, REINITs, estimated time to the switch to STOP_COPY.")
  private PrecopyProgress precopy;

  @JsonPropertyDescription("Listener of a Receive task.")
  private TaskEndpoint endpoint;

  @JsonPropertyDescription("Reason of the failure, a constant from the troubleshooting guide.")
  private String reason;

  @JsonPropertyDescription("What went wrong and what to do.")
  private String message;

  @JsonPropertyDescription("RFC 3339 time the agent claimed the task.")
  private String startTime;

  @JsonPropertyDescription("RFC 3339 time the task ended.")
  private String completionTime;

  @JsonPropertyDescription("RFC 3339 time of the agent's last progress report.")
  private String heartbeatTime;

  @JsonPropertyDescription("RFC 3339 time the first device left RUNNING (Save, Send).")
  private String stoppedAt;

  @JsonPropertyDescription(
      "RFC 3339 time the last device was RUNNING again (Load, Receive: with the new state).")
  private String resumedAt;

  public TaskPhase getPhase() {
    return phase;
  }

  public void setPhase(TaskPhase phase) {
    this.phase = phase;
  }

  public Stage getStage() {
    return stage;
  }

  public void setStage(Stage stage) {
    this.stage = stage;
  }

  public String getClaimedBy() {
    return claimedBy;
  }

  public void setClaimedBy(String claimedBy) {
    this.claimedBy = claimedBy;
  }

  public Long getBytesDone() {
    return bytesDone;
  }

  public void setBytesDone(Long bytesDone) {
    this.bytesDone = bytesDone;
  }

  public Long getTotalBytes() {
    return totalBytes;
  }

  public void setTotalBytes(Long totalBytes) {
    this.totalBytes = totalBytes;
  }

  public List<DeviceResult> getDevices() {
    return devices;
  }

  public void setDevices(List<DeviceResult> devices) {
    this.devices = devices;
  }

  public Long getDowntimeMillis() {
    return downtimeMillis;
  }

  public void setDowntimeMillis(Long downtimeMillis) {
    this.downtimeMillis = downtimeMillis;
  }

  public Integer getPrecopyRounds() {
    return precopyRounds;
  }

  public void setPrecopyRounds(Integer precopyRounds) {
    this.precopyRounds = precopyRounds;
  }

  public PrecopyProgress getPrecopy() {
    return precopy;
  }

  public void setPrecopy(PrecopyProgress precopy) {
    this.precopy = precopy;
  }

  public TaskEndpoint getEndpoint() {
    return endpoint;
  }

  public void setEndpoint(TaskEndpoint endpoint) {
    this.endpoint = endpoint;
  }

  public String getReason() {
    return reason;
  }

  public void setReason(String reason) {
    this.reason = reason;
  }

  public String getMessage() {
    return message;
  }

  public void setMessage(String message) {
    this.message = message;
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

  public String getHeartbeatTime() {
    return heartbeatTime;
  }

  public void setHeartbeatTime(String heartbeatTime) {
    this.heartbeatTime = heartbeatTime;
  }

  public String getStoppedAt() {
    return stoppedAt;
  }

  public void setStoppedAt(String stoppedAt) {
    this.stoppedAt = stoppedAt;
  }

  public String getResumedAt() {
    return resumedAt;
  }

  public void setResumedAt(String resumedAt) {
    this.resumedAt = resumedAt;
  }
}
