package dev.vfio.agent.cli;

import dev.vfio.agent.vfio.NotVfioDeviceException;
import dev.vfio.agent.vfio.SysfsDevice;
import java.io.IOException;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * The device a command acts on: named (opened directly, when no process holds it) or given as
 * {@code --pid P --fd F}, a process's open device fd, taken with {@code pidfd_getfd} so that the
 * command acts on the very file the workload uses.
 */
final class DeviceTarget {
  @Parameters(index = "0", arity = "0..1", paramLabel = "DEVICE",
      description = "PCI address, mdev UUID, /dev/vfio/devices/vfioN, /dev/vfio/GROUP or sysfs"
          + " path. With --pid/--fd it may be left out.")
  String device;

  @Option(names = "--pid", paramLabel = "PID",
      description = "Process that holds the device open (with --fd).")
  Integer pid;

  @Option(names = "--fd", paramLabel = "FD",
      description = "The device fd number in that process, as in /proc/PID/fd.")
  Integer fd;

  @Spec(Spec.Target.MIXEE)
  CommandSpec spec;

  /** Which device, from sysfs and /proc only: nothing is opened. */
  SysfsDevice resolve(VfioCtl ctl) throws IOException {
    if ((pid == null) != (fd == null)) {
      throw new ParameterException(spec.commandLine(), "--pid and --fd go together");
    }
    if (pid == null) {
      if (device == null) {
        throw new ParameterException(spec.commandLine(), "name a DEVICE, or give --pid and --fd");
      }
      return ctl.lookup().find(device);
    }
    if (device == null) {
      return ctl.lookup().heldBy(pid, fd);
    }
    SysfsDevice named = ctl.lookup().find(device);
    SysfsDevice held;
    try {
      held = ctl.lookup().heldBy(pid, fd);
    } catch (NotVfioDeviceException e) {
      // The fd may not say which device it is (several in the process's groups); the named
      // device stands, and taking the fd below still refuses anything that is not VFIO.
      return named;
    }
    if (!held.address().equals(named.address())) {
      throw new NotVfioDeviceException("fd " + fd + " of process " + pid + " is device "
          + held.address() + ", not " + named.address());
    }
    return named;
  }

  /** Opens {@code sysfs}: the process's fd when one was given, otherwise directly. */
  OpenedDevice open(VfioCtl ctl, SysfsDevice sysfs) throws IOException {
    return new OpenedDevice(sysfs, pid != null
        ? ctl.access().take(sysfs.address(), pid, fd)
        : ctl.access().open(sysfs));
  }

  OpenedDevice open(VfioCtl ctl) throws IOException {
    return open(ctl, resolve(ctl));
  }
}
