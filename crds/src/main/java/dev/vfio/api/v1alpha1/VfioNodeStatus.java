package dev.vfio.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.List;

/** The node's VFIO inventory and the agent's health. Written only by the node's agent. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class VfioNodeStatus extends SchemaObject {
  @JsonPropertyDescription("Version of the node agent.")
  private String agentVersion;

  @JsonPropertyDescription("kernel or simulated.")
  private String backend;

  @JsonPropertyDescription("uname -r of the node.")
  private String kernelRelease;

  @JsonPropertyDescription("Number of VFIO devices.")
  private Integer deviceCount;

  @JsonPropertyDescription("VFIO devices on the node.")
  private List<NodeDevice> devices;

  @JsonPropertyDescription("Storage claims mounted by the agent.")
  private List<StorageClaimStatus> storage;

  @JsonPropertyDescription(
      "Journal entries the agent could not replay when it started, oldest first. The devices and pod an entry names may still be stopped or frozen: check them, then delete the file from the quarantine directory below the journal directory; the list follows that directory.")
  private List<SetAsideJournalEntry> setAsideJournalEntries;

  @JsonPropertyDescription("RFC 3339 time of the agent's last heartbeat.")
  private String heartbeatTime;

  @JsonPropertyDescription("Ready is True while the agent runs and its backend works.")
  private List<Condition> conditions;

  public String getAgentVersion() {
    return agentVersion;
  }

  public void setAgentVersion(String agentVersion) {
    this.agentVersion = agentVersion;
  }

  public String getBackend() {
    return backend;
  }

  public void setBackend(String backend) {
    this.backend = backend;
  }

  public String getKernelRelease() {
    return kernelRelease;
  }

  public void setKernelRelease(String kernelRelease) {
    this.kernelRelease = kernelRelease;
  }

  public Integer getDeviceCount() {
    return deviceCount;
  }

  public void setDeviceCount(Integer deviceCount) {
    this.deviceCount = deviceCount;
  }

  public List<NodeDevice> getDevices() {
    return devices;
  }

  public void setDevices(List<NodeDevice> devices) {
    this.devices = devices;
  }

  public List<StorageClaimStatus> getStorage() {
    return storage;
  }

  public void setStorage(List<StorageClaimStatus> storage) {
    this.storage = storage;
  }

  public List<SetAsideJournalEntry> getSetAsideJournalEntries() {
    return setAsideJournalEntries;
  }

  public void setSetAsideJournalEntries(List<SetAsideJournalEntry> setAsideJournalEntries) {
    this.setAsideJournalEntries = setAsideJournalEntries;
  }

  public String getHeartbeatTime() {
    return heartbeatTime;
  }

  public void setHeartbeatTime(String heartbeatTime) {
    this.heartbeatTime = heartbeatTime;
  }

  public List<Condition> getConditions() {
    return conditions;
  }

  public void setConditions(List<Condition> conditions) {
    this.conditions = conditions;
  }
}
