package dev.vfio.agent.vfio;

import dev.vfio.agent.devices.VfioDevice;

/**
 * What makes device state portable between two devices as far as a blob header can tell: the same
 * driver and the same PCI ids. The address says which device on this node; it is not part of
 * compatibility. The operator's preflights check more before a task exists (the fingerprint's
 * compatibility key: subsystem ids, revision, mdev type; docs/hardware.md); this is the agent's own
 * check at load time, from what every blob format version records.
 */
public record DeviceIdentity(
    String address, String driver, String vendorId, String deviceId, String iommuGroup) {

  /**
   * The identity of a device on this node. An mdev has no PCI ids of its own; what makes its state
   * portable is its type (the mdev types of one parent are different devices, and an mdev of a
   * virtual parent such as mtty has nothing else), so its type stands as device id and its vendor
   * id is empty. The IOMMU group is null for a device without one.
   */
  public static DeviceIdentity of(VfioDevice device) {
    return new DeviceIdentity(
        device.address(),
        device.driver(),
        device.vendorId(),
        device.mdevType().orElse(device.deviceId()),
        device.iommuGroup().orElse(null));
  }

  /** State saved from {@code this} may be loaded into {@code other}. */
  public boolean compatibleWith(DeviceIdentity other) {
    return driver.equals(other.driver)
        && vendorId.equalsIgnoreCase(other.vendorId)
        && deviceId.equalsIgnoreCase(other.deviceId);
  }
}
