package dev.vfio.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.List;

/** A VFIO device on a node, as the agent sees it. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class NodeDevice extends SchemaObject {
  @JsonPropertyDescription("PCI address or mdev UUID.")
  private String address;

  @JsonPropertyDescription("Bound kernel driver.")
  private String driver;

  @JsonPropertyDescription("PCI vendor id.")
  private String vendorId;

  @JsonPropertyDescription("PCI device id.")
  private String deviceId;

  @JsonPropertyDescription(
      "What kind of device this is, as far as its migration state is concerned, with the compatibility key; absent when the agent predates fingerprints.")
  private DeviceFingerprint fingerprint;

  @JsonPropertyDescription("IOMMU group number.")
  private String iommuGroup;

  @JsonPropertyDescription(
      "Migration capabilities: STOP_COPY, P2P, PRE_COPY; empty when the device cannot migrate.")
  private List<String> migrationFlags;

  @JsonPropertyDescription("Current migration state, e.g. RUNNING, when the agent can read it.")
  private String migrationState;

  @JsonPropertyDescription("Device state size reported by MIG_DATA_SIZE, when available.")
  private Long stateSizeBytes;

  @JsonPropertyDescription("Pod whose processes hold the device open.")
  private PodReference holder;

  @JsonPropertyDescription(
      "VFIO migration protocol the device speaks: V2, the one vfio-operator drives; V1, the migration region of kernels before 5.18 and of old vendor drivers, which it does not support; or NONE. Absent when the agent could not ask the device (it asks only devices a pod holds).")
  private String migrationProtocol;

  @JsonPropertyDescription(
      "Why the device cannot be migrated, when the agent knows, e.g. that it speaks only the v1 migration region protocol.")
  private String notMigratableReason;

  public String getAddress() {
    return address;
  }

  public void setAddress(String address) {
    this.address = address;
  }

  public String getDriver() {
    return driver;
  }

  public void setDriver(String driver) {
    this.driver = driver;
  }

  public String getVendorId() {
    return vendorId;
  }

  public void setVendorId(String vendorId) {
    this.vendorId = vendorId;
  }

  public String getDeviceId() {
    return deviceId;
  }

  public void setDeviceId(String deviceId) {
    this.deviceId = deviceId;
  }

  public String getIommuGroup() {
    return iommuGroup;
  }

  public void setIommuGroup(String iommuGroup) {
    this.iommuGroup = iommuGroup;
  }

  public List<String> getMigrationFlags() {
    return migrationFlags;
  }

  public void setMigrationFlags(List<String> migrationFlags) {
    this.migrationFlags = migrationFlags;
  }

  public String getMigrationState() {
    return migrationState;
  }

  public void setMigrationState(String migrationState) {
    this.migrationState = migrationState;
  }

  public Long getStateSizeBytes() {
    return stateSizeBytes;
  }

  public void setStateSizeBytes(Long stateSizeBytes) {
    this.stateSizeBytes = stateSizeBytes;
  }

  public PodReference getHolder() {
    return holder;
  }

  public void setHolder(PodReference holder) {
    this.holder = holder;
  }

  public String getMigrationProtocol() {
    return migrationProtocol;
  }

  public void setMigrationProtocol(String migrationProtocol) {
    this.migrationProtocol = migrationProtocol;
  }

  public String getNotMigratableReason() {
    return notMigratableReason;
  }

  public void setNotMigratableReason(String notMigratableReason) {
    this.notMigratableReason = notMigratableReason;
  }

  public DeviceFingerprint getFingerprint() {
    return fingerprint;
  }

  public void setFingerprint(DeviceFingerprint fingerprint) {
    this.fingerprint = fingerprint;
  }
}
