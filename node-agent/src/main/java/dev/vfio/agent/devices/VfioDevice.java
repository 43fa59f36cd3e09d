package dev.vfio.agent.devices;

import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * One VFIO device of this node as sysfs and {@code /dev} describe it, read by {@link VfioDevices}:
 * the one description the command line, the published inventory and the pod resolver share.
 *
 * @param address the PCI address ({@code 0000:65:00.0}) or the mdev UUID, lowercase
 * @param kind a PCI function or an mdev
 * @param driver the bound driver: {@code vfio-pci}, a variant such as {@code mlx5_vfio_pci}, or an
 *     mdev driver
 * @param vendorId the PCI vendor id as sysfs gives it, lowercase and without {@code 0x} ({@code
 *     15b3}); empty for an mdev, which has no PCI ids of its own, and when sysfs has none
 * @param deviceId the PCI device id, likewise
 * @param mdevType for an mdev, its type ({@code mtty-2}, {@code i915-GVTg_V5_4}): what makes its
 *     state portable, as the PCI ids do for a PCI function
 * @param iommuGroup the IOMMU group number, when sysfs shows one
 * @param groupNode the group's device node, {@code /dev/vfio/N} (or {@code /dev/vfio/noiommu-N}),
 *     when it exists
 * @param cdev the device's own node, {@code /dev/vfio/devices/vfioN}, when it exists: sysfs names
 *     it from Linux 6.1, the node exists from 6.6 with CONFIG_VFIO_DEVICE_CDEV
 * @param details subsystem ids, revision and driver version, as far as sysfs shows them
 */
public record VfioDevice(
    String address,
    Kind kind,
    String driver,
    String vendorId,
    String deviceId,
    Optional<String> mdevType,
    Optional<String> iommuGroup,
    Optional<String> groupNode,
    Optional<String> cdev,
    DeviceDetails details) {

  /** A group's device node; group 1 is the group number. */
  public static final Pattern GROUP_NODE = Pattern.compile("/dev/vfio/(?:noiommu-)?([0-9]+)");

  /** A device's cdev; group 1 is its name, {@code vfioN}. */
  public static final Pattern CDEV_NODE = Pattern.compile("/dev/vfio/devices/(vfio[0-9]+)");

  /** How the device reaches VFIO. */
  public enum Kind {
    /** A PCI function bound to vfio-pci or a vfio-pci variant driver. */
    PCI,
    /** A mediated device bound to its mdev driver. */
    MDEV
  }

  public VfioDevice {
    Objects.requireNonNull(address, "address");
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(driver, "driver");
    Objects.requireNonNull(vendorId, "vendorId");
    Objects.requireNonNull(deviceId, "deviceId");
    Objects.requireNonNull(mdevType, "mdevType");
    Objects.requireNonNull(iommuGroup, "iommuGroup");
    Objects.requireNonNull(groupNode, "groupNode");
    Objects.requireNonNull(cdev, "cdev");
    Objects.requireNonNull(details, "details");
  }
}
