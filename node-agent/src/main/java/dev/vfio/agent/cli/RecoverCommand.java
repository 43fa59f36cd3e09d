package dev.vfio.agent.cli;

import dev.vfio.agent.vfio.MigrationStateMachine;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code vfioctl recover}: the agent's way back after any failure, for a device a crashed migration
 * left stopped or in ERROR: a SET to RUNNING, or a reset where only a reset helps.
 */
@Command(name = "recover", description = "Bring a device back to RUNNING, resetting it if needed.")
final class RecoverCommand implements Callable<Integer> {
  @ParentCommand VfioCtl ctl;

  @Mixin DeviceTarget target;

  @Spec CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    try (OpenedDevice opened = target.open(ctl);
        MigrationStateMachine machine = MigrationStateMachine.probe(opened.device())) {
      spec.commandLine()
          .getOut()
          .printf("%s: %s%n", opened.address(), machine.recoverToRunning().describe());
    }
    return 0;
  }
}
