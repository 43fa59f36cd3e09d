package dev.vfio.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;

/**
 * What kind of device a VFIO device is, as far as its migration state is concerned, and the short
 * key that says which devices can load each other's state (docs/hardware.md, "Device
 * fingerprints"). The node agent fills it from sysfs; a field sysfs does not show is absent
 * (unknown), not an error.
 *
 * <p>Only the keyed fields ({@link #KEYED_FIELDS}) count for compatibility: the state stream is
 * defined by the driver for one kind of device, which driver, ids, subsystem ids, revision and mdev
 * type name. The migration flags decide how state moves (P2P the ordering of several devices,
 * PRE_COPY whether rounds run before the stop), not whether a device can load it; the driver
 * version is shown for the user but drivers version their stream themselves. Both sides of every
 * check compute the key here, so the agent's published key, the preflights and the node labels
 * agree by construction.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class DeviceFingerprint extends SchemaObject {
  /** The fields the compatibility key covers, in the order the key hashes them. */
  public static final List<String> KEYED_FIELDS =
      List.of(
          "driver",
          "vendorId",
          "deviceId",
          "subsystemVendorId",
          "subsystemDeviceId",
          "revision",
          "mdevType");

  /** Hex digits of the SHA-256 the key keeps: 64 bits, and a label name of 16 characters. */
  public static final int KEY_LENGTH = 16;

  /** Names the canonical form; a change of the keyed fields must change it, and every key. */
  private static final String KEY_VERSION = "vfio.dev/fingerprint/v1";

  @JsonPropertyDescription("Bound kernel driver, e.g. mlx5_vfio_pci.")
  private String driver;

  @JsonPropertyDescription(
      "PCI vendor id, 4 lowercase hex digits (sysfs vendor); absent for an mdev.")
  private String vendorId;

  @JsonPropertyDescription(
      "PCI device id, 4 lowercase hex digits (sysfs device); absent for an mdev.")
  private String deviceId;

  @JsonPropertyDescription("PCI subsystem vendor id (sysfs subsystem_vendor), when sysfs shows it.")
  private String subsystemVendorId;

  @JsonPropertyDescription("PCI subsystem device id (sysfs subsystem_device), when sysfs shows it.")
  private String subsystemDeviceId;

  @JsonPropertyDescription("PCI revision id, 2 lowercase hex digits (sysfs revision), when shown.")
  private String revision;

  @JsonPropertyDescription("mdev type, e.g. mtty-2, for a mediated device.")
  private String mdevType;

  @JsonPropertyDescription(
      "Migration capabilities: STOP_COPY, P2P, PRE_COPY. Not part of the compatibility key.")
  private List<String> migrationFlags;

  @JsonPropertyDescription(
      "Version of the driver's kernel module (sysfs module/<name>/version), when the module declares one. Not part of the compatibility key.")
  private String driverVersion;

  @JsonPropertyDescription(
      "16 hex digits of the SHA-256 of the keyed fields (driver, vendorId, deviceId, subsystemVendorId, subsystemDeviceId, revision, mdevType): devices with the same key can load each other's state. The node carries the label compat.vfio.dev/<key>=true.")
  private String compatibilityKey;

  /**
   * A fingerprint of the given fields, each normalized (hex ids lowercase without {@code 0x}, an
   * empty value absent), with its compatibility key set.
   */
  public static DeviceFingerprint of(
      String driver,
      String vendorId,
      String deviceId,
      String subsystemVendorId,
      String subsystemDeviceId,
      String revision,
      String mdevType,
      List<String> migrationFlags,
      String driverVersion) {
    DeviceFingerprint fingerprint = new DeviceFingerprint();
    fingerprint.driver = text(driver);
    fingerprint.vendorId = hex(vendorId);
    fingerprint.deviceId = hex(deviceId);
    fingerprint.subsystemVendorId = hex(subsystemVendorId);
    fingerprint.subsystemDeviceId = hex(subsystemDeviceId);
    fingerprint.revision = hex(revision);
    fingerprint.mdevType = text(mdevType);
    fingerprint.migrationFlags = migrationFlags == null ? List.of() : List.copyOf(migrationFlags);
    fingerprint.driverVersion = text(driverVersion);
    fingerprint.compatibilityKey = fingerprint.computeKey();
    return fingerprint;
  }

  /**
   * The key of the keyed fields as they stand: what {@link #getCompatibilityKey} should say. The
   * checks use this rather than the stored key, so that a fingerprint edited by hand, or written by
   * an agent that computes another way, cannot pass for another.
   */
  public String computeKey() {
    StringBuilder canonical = new StringBuilder(KEY_VERSION).append('\n');
    List<String> values = keyedValues();
    for (int i = 0; i < KEYED_FIELDS.size(); i++) {
      String value = values.get(i);
      canonical
          .append(KEYED_FIELDS.get(i))
          .append('=')
          .append(value == null ? "" : value)
          .append('\n');
    }
    try {
      byte[] digest =
          MessageDigest.getInstance("SHA-256")
              .digest(canonical.toString().getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(digest).substring(0, KEY_LENGTH);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java platform has SHA-256", e);
    }
  }

  /**
   * The first keyed field in which {@code other} differs from this fingerprint, as {@code name
   * (this value vs other value)}; empty when state saved from one device loads into the other.
   * Unknown (absent) equals only unknown: a device whose revision sysfs does not show is not taken
   * for one whose revision it does.
   */
  public Optional<String> firstDifference(DeviceFingerprint other) {
    List<String> mine = keyedValues();
    List<String> theirs = other.keyedValues();
    for (int i = 0; i < KEYED_FIELDS.size(); i++) {
      if (!Objects.equals(mine.get(i), theirs.get(i))) {
        return Optional.of(
            KEYED_FIELDS.get(i) + " (" + shown(mine.get(i)) + " vs " + shown(theirs.get(i)) + ")");
      }
    }
    return Optional.empty();
  }

  /** Normalized, so that a fingerprint read back from the API compares as it was written. */
  private List<String> keyedValues() {
    return Arrays.asList(
        text(driver),
        hex(vendorId),
        hex(deviceId),
        hex(subsystemVendorId),
        hex(subsystemDeviceId),
        hex(revision),
        text(mdevType));
  }

  private static String shown(String value) {
    return value == null ? "unknown" : value;
  }

  private static String text(String value) {
    return value == null || value.isBlank() ? null : value.trim();
  }

  private static String hex(String value) {
    String id = text(value);
    if (id == null) {
      return null;
    }
    id = id.toLowerCase(Locale.ROOT);
    return id.startsWith("0x") ? id.substring(2) : id;
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

  public String getSubsystemVendorId() {
    return subsystemVendorId;
  }

  public void setSubsystemVendorId(String subsystemVendorId) {
    this.subsystemVendorId = subsystemVendorId;
  }

  public String getSubsystemDeviceId() {
    return subsystemDeviceId;
  }

  public void setSubsystemDeviceId(String subsystemDeviceId) {
    this.subsystemDeviceId = subsystemDeviceId;
  }

  public String getRevision() {
    return revision;
  }

  public void setRevision(String revision) {
    this.revision = revision;
  }

  public String getMdevType() {
    return mdevType;
  }

  public void setMdevType(String mdevType) {
    this.mdevType = mdevType;
  }

  public List<String> getMigrationFlags() {
    return migrationFlags;
  }

  public void setMigrationFlags(List<String> migrationFlags) {
    this.migrationFlags = migrationFlags;
  }

  public String getDriverVersion() {
    return driverVersion;
  }

  public void setDriverVersion(String driverVersion) {
    this.driverVersion = driverVersion;
  }

  public String getCompatibilityKey() {
    return compatibilityKey;
  }

  public void setCompatibilityKey(String compatibilityKey) {
    this.compatibilityKey = compatibilityKey;
  }
}
