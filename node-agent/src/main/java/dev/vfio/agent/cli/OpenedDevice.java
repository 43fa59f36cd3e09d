package dev.vfio.agent.cli;

import dev.vfio.agent.devices.VfioDevice;
import dev.vfio.agent.vfio.KernelMigrationDevice;

/** A device the command opened (or took from a process), with what sysfs says about it. */
record OpenedDevice(VfioDevice sysfs, KernelMigrationDevice device) implements AutoCloseable {
  String address() {
    return sysfs.address();
  }

  @Override
  public void close() {
    device.close();
  }
}
