package dev.vfio.agent.vfio;

import java.util.Optional;

/**
 * A VFIO device as sysfs describes it.
 *
 * <p>For a PCI device the identity carries its PCI vendor and device ids. An mdev has no PCI ids
 * of its own, and what makes its state portable is its type, so its identity carries the mdev
 * type (e.g. {@code mtty-2}) as device id and an empty vendor id.
 *
 * @param kind a PCI device or an mdev
 * @param identity address, driver, ids and IOMMU group (empty when the device has none)
 * @param cdev the name {@code vfioN} of the device's {@code /dev/vfio/devices/vfioN}, on kernels
 *     from 6.6 that have it
 */
public record SysfsDevice(Kind kind, DeviceIdentity identity, Optional<String> cdev) {
  /** How the device reaches VFIO. */
  public enum Kind {
    /** A PCI function bound to vfio-pci or a vfio-pci variant driver. */
    PCI,
    /** A mediated device. */
    MDEV
  }

  public String address() {
    return identity.address();
  }

  /** The IOMMU group number, empty for a device without one. */
  public Optional<String> iommuGroup() {
    return identity.iommuGroup().isEmpty() ? Optional.empty() : Optional.of(identity.iommuGroup());
  }
}
