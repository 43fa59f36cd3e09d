package dev.vfio.agent.pods;

import dev.vfio.agent.devices.VfioDevice;
import java.util.regex.Matcher;

/**
 * What a process's open file is, read from its {@code /proc/PID/fd} link, as far as VFIO cares
 * (docs/vfio-migration-v2.md §6).
 */
sealed interface FdTarget {
  /** {@code /dev/vfio/<group>} (or {@code noiommu-<group>}): an open VFIO group. */
  record Group(String group) implements FdTarget {}

  /** {@code /dev/vfio/devices/vfioN}: a device opened through its cdev. */
  record Cdev(String name) implements FdTarget {}

  /** {@code anon_inode:[vfio-device]}: a device fd obtained from a group with GET_DEVICE_FD. */
  record GroupDevice() implements FdTarget {}

  /**
   * Anything else. This includes the container {@code /dev/vfio/vfio}, iommufd {@code /dev/iommu}
   * and migration data fds ({@code anon_inode:mlx5vf_mig}): none of them is a device.
   */
  record Other() implements FdTarget {}

  static FdTarget parse(String link) {
    Matcher group = VfioDevice.GROUP_NODE.matcher(link);
    if (group.matches()) {
      return new Group(group.group(1));
    }
    Matcher cdev = VfioDevice.CDEV_NODE.matcher(link);
    if (cdev.matches()) {
      return new Cdev(cdev.group(1));
    }
    if (link.equals("anon_inode:[vfio-device]")) {
      return new GroupDevice();
    }
    return new Other();
  }
}
