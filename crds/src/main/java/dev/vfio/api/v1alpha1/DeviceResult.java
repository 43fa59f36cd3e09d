package dev.vfio.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.List;

/** What happened to one device: its identity, the bytes of state moved and where they went. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class DeviceResult extends SchemaObject {
  @JsonPropertyDescription("PCI address (0000:65:00.0) or mdev UUID of the device.")
  private String address;

  @JsonPropertyDescription("Kernel driver bound to the device, e.g. vfio-pci or mlx5_vfio_pci.")
  private String driver;

  @JsonPropertyDescription("PCI vendor id, 4 hex digits.")
  private String vendorId;

  @JsonPropertyDescription("PCI device id, 4 hex digits.")
  private String deviceId;

  @JsonPropertyDescription(
      "Migration capabilities the device advertises: STOP_COPY, P2P, PRE_COPY.")
  private List<String> migrationFlags;

  @JsonPropertyDescription(
      "The device's fingerprint when the state was saved or loaded; a restore loads the state only into a device with the same compatibility key.")
  private DeviceFingerprint fingerprint;

  @JsonPropertyDescription("Bytes of device state (uncompressed).")
  private Long bytes;

  @JsonPropertyDescription(
      "Digest of the saved device state, hex, when the snapshot asked for spec.digest SHA256: the SHA-256 of the SHA-256s of its 1 MiB chunks (docs/blob-format.md).")
  private String sha256;

  @JsonPropertyDescription("Path of the blob relative to the storage claim root.")
  private String blobPath;

  @JsonPropertyDescription("PRE_COPY rounds run for this device.")
  private Integer precopyRounds;

  @JsonPropertyDescription("Migration state the device was left in, e.g. RUNNING.")
  private String state;

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

  public List<String> getMigrationFlags() {
    return migrationFlags;
  }

  public void setMigrationFlags(List<String> migrationFlags) {
    this.migrationFlags = migrationFlags;
  }

  public Long getBytes() {
    return bytes;
  }

  public void setBytes(Long bytes) {
    this.bytes = bytes;
  }

  public String getSha256() {
    return sha256;
  }

  public void setSha256(String sha256) {
    this.sha256 = sha256;
  }

  public String getBlobPath() {
    return blobPath;
  }

  public void setBlobPath(String blobPath) {
    this.blobPath = blobPath;
  }

  public Integer getPrecopyRounds() {
    return precopyRounds;
  }

  public void setPrecopyRounds(Integer precopyRounds) {
    this.precopyRounds = precopyRounds;
  }

  public String getState() {
    return state;
  }

  public void setState(String state) {
    this.state = state;
  }

  public DeviceFingerprint getFingerprint() {
    return fingerprint;
  }

  public void setFingerprint(DeviceFingerprint fingerprint) {
    this.fingerprint = fingerprint;
  }
}
