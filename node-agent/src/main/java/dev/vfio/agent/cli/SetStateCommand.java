package dev.vfio.agent.cli;

import dev.vfio.agent.vfio.MigrationState;
import dev.vfio.agent.vfio.MigrationStateMachine;
import dev.vfio.agent.vfio.VfioException;
import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code vfioctl set-state}: requests states one after the other, each with one SET that the kernel
 * walks. For diagnosis: which arcs a device takes and which errno it gives for the rest. A failed
 * request brings the device back to RUNNING. A device opened directly (no {@code --pid}) returns to
 * RUNNING anyway when the command closes it: the last close of a device ends its migration state.
 */
@Command(
    name = "set-state",
    description = "Request migration states in order; on failure, recover to RUNNING.")
final class SetStateCommand implements Callable<Integer> {
  @ParentCommand VfioCtl ctl;

  @Mixin DeviceTarget target;

  @Option(
      names = "--to",
      required = true,
      split = ",",
      paramLabel = "STATE",
      description = "States to request, in order: ${COMPLETION-CANDIDATES}.")
  List<MigrationState> states;

  @Spec CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    try (OpenedDevice opened = target.open(ctl);
        MigrationStateMachine machine = MigrationStateMachine.probe(opened.device())) {
      for (MigrationState state : states) {
        MigrationState from = machine.state();
        try {
          machine.transition(state);
        } catch (VfioException e) {
          throw VfioCtl.recovered(opened.address(), e, machine);
        }
        out.printf("%s: %s -> %s%n", opened.address(), from, machine.state());
      }
    }
    return 0;
  }
}
