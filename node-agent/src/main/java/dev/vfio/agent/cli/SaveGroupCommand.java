package dev.vfio.agent.cli;

import static dev.vfio.agent.vfio.MigrationState.RUNNING;
import static dev.vfio.agent.vfio.MigrationState.STOP_COPY;

import dev.vfio.agent.blobs.BlobCompression;
import dev.vfio.agent.blobs.BlobSummary;
import dev.vfio.agent.blobs.BlobWriter;
import dev.vfio.agent.vfio.MigrationStateMachine;
import dev.vfio.agent.vfio.PeerDmaOrder;
import java.io.IOException;
import java.nio.file.Files;
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
 * {@code vfioctl save-group}: the state of several devices of one process, stopped together in the
 * agent's order ({@link PeerDmaOrder}): every device to RUNNING_P2P, then each to STOP_COPY and its
 * stream into {@code DIR/DEVICE.vfs}; then every device to RUNNING_P2P before any runs again. On
 * any failure no blob is published and every device is brought back to RUNNING.
 */
@Command(
    name = "save-group",
    description = "Save the migration state of several devices of one process together.")
final class SaveGroupCommand implements Callable<Integer> {
  @ParentCommand VfioCtl ctl;

  @Mixin HeldGroup group;

  @Option(
      names = "--out",
      required = true,
      paramLabel = "DIR",
      description = "Directory for the blobs, one DEVICE.vfs each; an existing blob is refused.")
  Path out;

  @Spec CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    List<HeldGroup.Member> members = group.open(ctl);
    try {
      for (HeldGroup.Member member : members) {
        if (Files.exists(blob(member)) || member.machine().state() != RUNNING) {
          throw new CommandFailure(
              member.address()
                  + " is in "
                  + member.machine().state()
                  + " (a group save needs every device RUNNING) or "
                  + blob(member)
                  + " exists; nothing done");
        }
      }
      List<BlobSummary> saved = new ArrayList<>();
      List<BlobWriter> writers = new ArrayList<>();
      try {
        for (HeldGroup.Member member : members) {
          writers.add(
              BlobWriter.create(
                  blob(member),
                  SaveCommand.header(member.opened(), member.machine(), BlobCompression.NONE)));
        }
        List<MigrationStateMachine> machines = HeldGroup.machines(members);
        PeerDmaOrder.beforeStopping(machines);
        for (int i = 0; i < members.size(); i++) {
          MigrationStateMachine machine = members.get(i).machine();
          machine.transition(STOP_COPY);
          machine.readToEnd(writers.get(i), MigrationStateMachine.Progress.NONE);
          saved.add(writers.get(i).commit());
        }
        PeerDmaOrder.beforeRunning(machines);
        for (MigrationStateMachine machine : machines) {
          machine.transition(RUNNING);
        }
      } catch (IOException | RuntimeException e) {
        throw HeldGroup.recovered(e, members);
      } finally {
        for (BlobWriter writer : writers) {
          writer.close();
        }
      }
      for (int i = 0; i < members.size(); i++) {
        spec.commandLine()
            .getOut()
            .printf(
                "saved %d bytes of %s state to %s; device %s%n",
                saved.get(i).stateBytes(),
                members.get(i).address(),
                saved.get(i).path(),
                members.get(i).machine().state());
      }
    } finally {
      HeldGroup.close(members);
    }
    return 0;
  }

  private Path blob(HeldGroup.Member member) {
    return out.resolve(member.address() + ".vfs");
  }
}
