package dev.vfio.agent.cli;

import static dev.vfio.agent.vfio.MigrationState.RESUMING;
import static dev.vfio.agent.vfio.MigrationState.RUNNING;

import dev.vfio.agent.blobs.BlobReader;
import dev.vfio.agent.blobs.BlobSummary;
import dev.vfio.agent.vfio.DeviceIdentity;
import dev.vfio.agent.vfio.MigrationStateMachine;
import dev.vfio.agent.vfio.PeerDmaOrder;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code vfioctl load-group}: {@code DIR/DEVICE.vfs} into each of several RUNNING devices of one
 * process, in the agent's order ({@link PeerDmaOrder}): every device to RUNNING_P2P, then each to
 * RESUMING and its state written; every device back to RUNNING_P2P (where each checks what it got)
 * before any runs. Every blob is verified and matched to its device before a device is touched.
 * Unsealed blobs only, as {@code save-group} writes them.
 */
@Command(
    name = "load-group",
    description = "Load blobs into several running devices of one process together.")
final class LoadGroupCommand implements Callable<Integer> {
  @ParentCommand VfioCtl ctl;

  @Mixin HeldGroup group;

  @Option(
      names = "--in",
      required = true,
      paramLabel = "DIR",
      description = "Directory of the blobs, one DEVICE.vfs each.")
  Path in;

  @Spec CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    List<HeldGroup.Member> members = group.open(ctl);
    List<BlobReader> readers = new ArrayList<>();
    try {
      List<BlobSummary> blobs = new ArrayList<>();
      for (HeldGroup.Member member : members) {
        BlobReader reader = BlobReader.open(in.resolve(member.address() + ".vfs"));
        readers.add(reader);
        if (reader.sealed()) {
          throw new CommandFailure(reader.path() + " is sealed: load it with load; nothing done");
        }
        blobs.add(reader.verify());
        reader.requireCompatibleWith(DeviceIdentity.of(member.opened().sysfs()));
        if (member.machine().state() != RUNNING) {
          throw new CommandFailure(
              member.address() + " is in " + member.machine().state() + "; nothing done");
        }
      }
      List<MigrationStateMachine> machines = HeldGroup.machines(members);
      try {
        PeerDmaOrder.beforeStopping(machines);
        for (int i = 0; i < members.size(); i++) {
          MigrationStateMachine machine = machines.get(i);
          machine.transition(RESUMING);
          readers.get(i).copyTo(machine::writeAll);
        }
        PeerDmaOrder.beforeRunning(machines);
        for (MigrationStateMachine machine : machines) {
          machine.transition(RUNNING);
        }
      } catch (IOException | RuntimeException e) {
        throw HeldGroup.recovered(e, members);
      }
      for (int i = 0; i < members.size(); i++) {
        spec.commandLine()
            .getOut()
            .printf(
                "loaded %d bytes into %s; device %s%n",
                blobs.get(i).stateBytes(), members.get(i).address(), machines.get(i).state());
      }
    } finally {
      for (BlobReader reader : readers) {
        reader.close();
      }
      HeldGroup.close(members);
    }
    return 0;
  }
}
