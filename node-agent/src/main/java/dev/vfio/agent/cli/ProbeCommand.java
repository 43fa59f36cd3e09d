package dev.vfio.agent.cli;

import dev.vfio.agent.devices.VfioDevice;
import dev.vfio.agent.vfio.DeviceInfo;
import dev.vfio.agent.vfio.KernelMigrationDevice;
import dev.vfio.agent.vfio.MigrationFlags;
import dev.vfio.agent.vfio.MigrationProtocol;
import dev.vfio.agent.vfio.MigrationStateMachine;
import java.io.PrintWriter;
import java.util.OptionalLong;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code vfioctl probe}: what a device is and what of migration v2 it supports; changes nothing.
 */
@Command(name = "probe", description = "Show a device's migration flags, state and state size.")
final class ProbeCommand implements Callable<Integer> {
  @ParentCommand VfioCtl ctl;

  @Mixin DeviceTarget target;

  @Spec CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    try (OpenedDevice opened = target.open(ctl)) {
      VfioDevice sysfs = opened.sysfs();
      KernelMigrationDevice device = opened.device();
      out.printf("device:      %s%n", sysfs.address());
      out.printf(
          "kind:        %s, driver %s, id %s%n",
          sysfs.kind().name().toLowerCase(), sysfs.driver(), DevicesCommand.id(sysfs));
      out.printf("iommu group: %s%n", sysfs.iommuGroup().orElse("none"));
      out.printf("opened as:   %s%n", device.origin());
      DeviceInfo info = device.info();
      out.printf(
          "info:        flags %s, %d regions, %d irqs%n",
          info.flagNames(), info.regions(), info.irqs());
      MigrationProtocol protocol = MigrationProtocol.of(device);
      if (protocol == MigrationProtocol.V1) {
        throw new CommandFailure(
            sysfs.address() + ": " + protocol.notMigratableReason().orElseThrow());
      }
      // probe() refuses a device without STOP_COPY, naming the errno; that is the answer then.
      MigrationStateMachine machine = MigrationStateMachine.probe(device);
      MigrationFlags flags = machine.flags();
      out.printf("migration:   %s%n", String.join("|", flags.names()));
      out.printf("state:       %s%n", machine.state());
      OptionalLong size = device.stopCopySize();
      out.printf(
          "state size:  %s%n",
          size.isPresent()
              ? size.getAsLong() + " bytes"
              : "unknown (no MIG_DATA_SIZE before Linux 6.2)");
    }
    return 0;
  }
}
