package dev.vfio.agent;

import dev.vfio.agent.devices.VfioDevices;
import dev.vfio.agent.freeze.CgroupFreezer;
import dev.vfio.agent.freeze.SharedFreezer;
import dev.vfio.agent.inventory.HeldDeviceProbe;
import dev.vfio.agent.inventory.SysfsInventory;
import dev.vfio.agent.pods.CgroupPodResolver;
import dev.vfio.agent.pods.PodCgroups;
import dev.vfio.agent.pods.ProcessDevices;
import dev.vfio.agent.vfio.KernelDeviceAccess;
import java.nio.file.Path;

/**
 * The real node: devices from sysfs, pods' devices from their cgroups and open fds, the workload's
 * own device fd taken with pidfd_getfd, the cgroup v2 freezer. The DaemonSet mounts the host's
 * /sys, /dev/vfio and cgroup tree and runs with hostPID, so the default roots are the host's. One
 * {@link VfioDevices} serves the inventory, the pod resolver and the device access, so that all
 * three describe a device alike.
 */
final class KernelBackend {
  private KernelBackend() {}

  static NodeBackend create() {
    VfioDevices devices = VfioDevices.ofSystem();
    KernelDeviceAccess access = new KernelDeviceAccess(devices);
    HeldDeviceProbe probe =
        new HeldDeviceProbe(
            new CgroupPodResolver(new PodCgroups(), new ProcessDevices(devices, Path.of("/proc"))),
            access);
    return new NodeBackend(
        "kernel",
        new SysfsInventory(devices, probe),
        probe,
        access,
        new SharedFreezer(new CgroupFreezer()));
  }
}
