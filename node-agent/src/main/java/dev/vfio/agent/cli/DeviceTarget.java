package dev.vfio.agent.cli;

import dev.vfio.agent.devices.NotVfioDeviceException;
import dev.vfio.agent.devices.VfioDevice;
import dev.vfio.agent.pods.AmbiguousDeviceException;
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
  @Parameters(
      index = "0",
      arity = "0..1",
      paramLabel = "DEVICE",
      description =
          "PCI address, mdev UUID, /dev/vfio/devices/vfioN, /dev/vfio/GROUP or sysfs"
              + " path. With --pid/--fd it may be left out.")
  String device;

  @Option(
      names = "--pid",
      paramLabel = "PID",
      description = "Process that holds the device open (with --fd).")
  Integer pid;

  @Option(
      names = "--fd",
      paramLabel = "FD",
      description = "The device fd number in that process, as in /proc/PID/fd.")
  Integer fd;

  @Spec(Spec.Target.MIXEE)
  CommandSpec spec;

  /** Which device, from sysfs and /proc only: nothing is opened. */
  VfioDevice resolve(VfioCtl ctl) throws IOException {
    if ((pid == null) != (fd == null)) {
      throw new ParameterException(spec.commandLine(), "--pid and --fd go together");
    }
    if (pid == null) {
      if (device == null) {
        throw new ParameterException(spec.commandLine(), "name a DEVICE, or give --pid and --fd");
      }
      return ctl.devices().find(device);
    }
    if (device == null) {
      try {
        return ctl.processes().heldBy(pid, fd);
      } catch (AmbiguousDeviceException e) {
        throw new NotVfioDeviceException(
            e.getMessage() + ". Or name the device too: DEVICE --pid " + pid + " --fd " + fd);
      }
    }
    VfioDevice named = ctl.devices().find(device);
    VfioDevice held;
    try {
      held = ctl.processes().heldBy(pid, fd);
    } catch (IOException e) {
      // The fd may not say which device it is (several in the process's groups), or this user
      // may not read it; the named device stands, and taking the fd below still refuses a
      // missing fd, a process this user may not touch, and anything that is not VFIO.
      return named;
    }
    if (!held.address().equals(named.address())) {
      throw new NotVfioDeviceException(
          "fd "
              + fd
              + " of process "
              + pid
              + " is device "
              + held.address()
              + ", not "
              + named.address());
    }
    return named;
  }

  /** Opens {@code sysfs}: the process's fd when one was given, otherwise directly. */
  OpenedDevice open(VfioCtl ctl, VfioDevice sysfs) throws IOException {
    return new OpenedDevice(
        sysfs,
        pid != null ? ctl.access().take(sysfs.address(), pid, fd) : ctl.access().open(sysfs));
  }

  OpenedDevice open(VfioCtl ctl) throws IOException {
    return open(ctl, resolve(ctl));
  }
}
