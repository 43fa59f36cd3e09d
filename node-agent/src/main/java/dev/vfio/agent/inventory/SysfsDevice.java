package dev.vfio.agent.inventory;

import dev.vfio.agent.vfio.DeviceIdentity;

/**
 * A VFIO device as sysfs describes it: its identity, its VFIO character device and, for a
 * mediated device, where it comes from.
 *
 * @param identity address (PCI address, or UUID for an mdev), driver, PCI ids and IOMMU group
 * @param cdev the device's name under {@code /dev/vfio/devices} ({@code vfioN}), or null on
 *     kernels without VFIO device cdevs
 * @param mdev what makes a mediated device, or null for a PCI device
 */
public record SysfsDevice(DeviceIdentity identity, String cdev, Mdev mdev) {

  /** The address other layers use for this device: PCI address or mdev UUID. */
  public String address() {
    return identity.address();
  }

  /**
   * The origin of a mediated device.
   *
   * @param parent sysfs name of the parent device (a PCI address when the parent is PCI)
   * @param parentDriver driver of the parent, or null when the parent has none (virtual parents)
   * @param type the mdev type id, e.g. {@code i915-GVTg_V5_4} or {@code mtty-2}
   * @param typeName the type's human name from {@code mdev_type/name}, or null
   */
  public record Mdev(String parent, String parentDriver, String type, String typeName) {}
}
