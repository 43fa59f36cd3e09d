package dev.vfio.agent;

import dev.vfio.agent.freeze.CgroupFreezer;
import dev.vfio.agent.freeze.SharedFreezer;
import dev.vfio.agent.inventory.HeldDeviceProbe;
import dev.vfio.agent.inventory.SysfsInventory;
import dev.vfio.agent.pods.CgroupPodResolver;
import dev.vfio.agent.vfio.KernelDeviceAccess;
import dev.vfio.agent.vfio.VfioDeviceLookup;
import java.nio.file.Path;

/**
 * The real node: devices from sysfs, pods' devices from their cgroups and open fds, the
 * workload's own device fd taken with pidfd_getfd, the cgroup v2 freezer. The DaemonSet mounts
 * the host's /sys and cgroup tree and runs with hostPID, so the default roots are the host's.
 */
final class KernelBackend {
  private KernelBackend() {}

  static NodeBackend create() {
    KernelDeviceAccess access = new KernelDeviceAccess(VfioDeviceLookup.ofSystem());
    HeldDeviceProbe probe = new HeldDeviceProbe(new CgroupPodResolver(), access);
    return new NodeBackend("kernel", new SysfsInventory(Path.of("/sys"), probe), probe, access,
        new SharedFreezer(new CgroupFreezer()));
  }
}
