package dev.vfio.agent.cli;

import dev.vfio.agent.vfio.MigrationStateMachine;
import dev.vfio.agent.vfio.PeerDmaOrder;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * Several devices one process holds, as {@code DEVICE=FD} pairs of {@code --pid P}: the devices of
 * one workload, which a group command moves together. Each is named, because with several groups
 * open in the process a device fd alone does not say which device it is on a kernel without
 * fdinfo's syspath.
 */
final class HeldGroup {
  @Option(
      names = "--pid",
      required = true,
      paramLabel = "PID",
      description = "Process that holds the devices open.")
  int pid;

  @Parameters(
      arity = "1..*",
      paramLabel = "DEVICE=FD",
      description = "A device (PCI address or mdev UUID) and its fd number in that process.")
  List<String> devices;

  /** One device of the group, opened, with its state machine. */
  record Member(OpenedDevice opened, MigrationStateMachine machine) {
    String address() {
      return opened.address();
    }
  }

  /**
   * Takes every device from the process and probes it; on a failure closes the ones already taken.
   */
  List<Member> open(VfioCtl ctl) throws IOException, CommandFailure {
    List<Member> members = new ArrayList<>();
    try {
      for (String pair : devices) {
        int eq = pair.lastIndexOf('=');
        if (eq <= 0) {
          throw new CommandFailure(pair + ": give DEVICE=FD; nothing done");
        }
        int fd;
        try {
          fd = Integer.parseInt(pair.substring(eq + 1));
        } catch (NumberFormatException e) {
          throw new CommandFailure(pair + ": FD is not a number; nothing done", e);
        }
        var sysfs = ctl.devices().find(pair.substring(0, eq));
        OpenedDevice opened = new OpenedDevice(sysfs, ctl.access().take(sysfs.address(), pid, fd));
        try {
          members.add(new Member(opened, MigrationStateMachine.probe(opened.device())));
        } catch (IOException e) {
          opened.close();
          throw e;
        }
      }
      return members;
    } catch (IOException | CommandFailure | RuntimeException e) {
      close(members);
      throw e;
    }
  }

  static List<MigrationStateMachine> machines(List<Member> members) {
    return members.stream().map(Member::machine).toList();
  }

  /**
   * After {@code failure} left the devices anywhere: every device back to RUNNING, each answering
   * peer DMA before any initiates it where the devices allow; returns the failure told how each
   * device was left.
   */
  static CommandFailure recovered(Exception failure, List<Member> members) {
    StringBuilder text = new StringBuilder(failure.getMessage());
    try {
      PeerDmaOrder.beforeRunning(machines(members));
    } catch (IOException e) {
      // A device that cannot reach RUNNING_P2P is reset below, and its line says so.
    }
    for (Member member : members) {
      text.append("; ").append(member.address());
      try {
        text.append(" recovered: ").append(member.machine().recoverToRunning().describe());
      } catch (IOException e) {
        text.append(" could NOT be brought back to RUNNING: ").append(e.getMessage());
      }
    }
    return new CommandFailure(text.toString(), failure);
  }

  static void close(List<Member> members) {
    for (Member member : members) {
      member.machine().close();
      member.opened().close();
    }
  }
}
