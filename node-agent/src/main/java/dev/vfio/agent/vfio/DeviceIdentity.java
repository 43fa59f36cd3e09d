package dev.vfio.agent.vfio;

/**
 * What makes device state portable between two devices: the same driver and the same PCI ids.
 * The address says which device on this node; it is not part of compatibility.
 */
public record DeviceIdentity(
    String address, String driver, String vendorId, String deviceId, String iommuGroup) {

  /** State saved from {@code this} may be loaded into {@code other}. */
  public boolean compatibleWith(DeviceIdentity other) {
    return driver.equals(other.driver)
        && vendorId.equalsIgnoreCase(other.vendorId)
        && deviceId.equalsIgnoreCase(other.deviceId);
  }
}
