package dev.vfio.agent.cli;

import dev.vfio.agent.devices.VfioDevice;
import dev.vfio.agent.vfio.Errno;
import dev.vfio.agent.vfio.KernelMigrationDevice;
import dev.vfio.agent.vfio.MigrationProtocol;
import dev.vfio.agent.vfio.VfioException;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code vfioctl devices}: every VFIO device sysfs knows, and for each one no process holds, its
 * migration flags and state. Probing opens the device: vfio-pci resets an unheld PCI function on
 * open and close, which {@code --no-probe} avoids.
 */
@Command(name = "devices", description = "List the VFIO devices of this node.")
final class DevicesCommand implements Callable<Integer> {
  private static final String ROW = "%-36s %-4s %-16s %-20s %-5s %-8s %-22s %s%n";

  @ParentCommand VfioCtl ctl;

  @Option(
      names = "--no-probe",
      description = "Do not open devices to read their migration flags and state.")
  boolean noProbe;

  @Spec CommandSpec spec;

  @Override
  public Integer call() throws IOException {
    PrintWriter out = spec.commandLine().getOut();
    List<VfioDevice> devices = ctl.devices().list();
    out.printf(ROW, "ADDRESS", "KIND", "DRIVER", "ID", "GROUP", "CDEV", "MIGRATION", "STATE");
    for (VfioDevice device : devices) {
      Probed probed = noProbe ? new Probed("-", "-") : probe(device);
      out.printf(
          ROW,
          device.address(),
          device.kind().name().toLowerCase(),
          device.driver(),
          id(device),
          device.iommuGroup().orElse("-"),
          device.cdev().map(cdev -> Path.of(cdev).getFileName().toString()).orElse("-"),
          probed.migration(),
          probed.state());
    }
    if (devices.isEmpty()) {
      out.println("(no device is bound to vfio-pci, a VFIO variant driver or an mdev driver)");
    }
    return 0;
  }

  /** The MIGRATION and STATE columns of a device. */
  private record Probed(String migration, String state) {}

  /** Flags and state, or why they could not be read; never fails the listing. */
  private Probed probe(VfioDevice sysfs) {
    try (KernelMigrationDevice device = ctl.access().open(sysfs)) {
      MigrationProtocol protocol = MigrationProtocol.of(device);
      if (protocol != MigrationProtocol.V2) {
        return new Probed(protocol == MigrationProtocol.V1 ? "v1-unsupported" : "none", "-");
      }
      String flags = String.join("|", device.migrationFlags().names());
      return new Probed(flags.isEmpty() ? "none" : flags, device.state().name());
    } catch (VfioException e) {
      return new Probed(
          e.error() == Errno.EBUSY
              ? "(busy: group open in a process)"
              : "(" + e.operation() + ": " + e.error() + ")",
          "-");
    } catch (IOException e) {
      return new Probed("(" + e.getMessage() + ")", "-");
    }
  }

  /** vendor:device for a PCI function, the mdev type for an mdev. */
  static String id(VfioDevice device) {
    return device.mdevType().orElse(device.vendorId() + ":" + device.deviceId());
  }
}
