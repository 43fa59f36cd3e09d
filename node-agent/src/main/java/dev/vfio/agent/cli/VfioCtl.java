package dev.vfio.agent.cli;

import dev.vfio.agent.devices.VfioDevices;
import dev.vfio.agent.pods.ProcessDevices;
import dev.vfio.agent.vfio.KernelDeviceAccess;
import dev.vfio.agent.vfio.MigrationStateMachine;
import dev.vfio.agent.vfio.Recovery;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.function.Supplier;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code vfioctl}: the node agent's kernel code paths as a command line, for admins diagnosing a
 * node and for the kernel test bed. It lists VFIO devices, probes their migration support, saves a
 * device's migration state to a blob and loads one back, through the same {@link
 * MigrationStateMachine}, blob format and device access the agent uses.
 *
 * <p>Exit status: 0 done, 1 refused or failed (the message says what was left how), 2 bad usage.
 */
@Command(
    name = "vfioctl",
    mixinStandardHelpOptions = true,
    // Every subcommand answers --help and --version too.
    scope = CommandLine.ScopeType.INHERIT,
    version = "vfioctl 0.1.0",
    description = "Inspect, save and load the VFIO migration state of devices on this node.",
    subcommands = {
      DevicesCommand.class,
      ProbeCommand.class,
      SaveCommand.class,
      LoadCommand.class,
      SaveGroupCommand.class,
      LoadGroupCommand.class,
      SetStateCommand.class,
      RecoverCommand.class
    })
public final class VfioCtl {
  private final VfioDevices devices;
  private final ProcessDevices processes;
  private final Supplier<KernelDeviceAccess> access;

  /**
   * The devices as the agent finds them, the devices processes hold as its pod resolver finds them,
   * and the agent's device access. {@code access} is created on first use: listing devices from
   * sysfs needs no native code.
   */
  public VfioCtl(
      VfioDevices devices, ProcessDevices processes, Supplier<KernelDeviceAccess> access) {
    this.devices = devices;
    this.processes = processes;
    this.access = access;
  }

  /** This system's devices and processes. */
  public static VfioCtl ofSystem() {
    VfioDevices devices = VfioDevices.ofSystem();
    return new VfioCtl(
        devices,
        new ProcessDevices(devices, Path.of("/proc")),
        () -> new KernelDeviceAccess(devices));
  }

  public static void main(String[] args) {
    System.exit(
        run(
            ofSystem(),
            new PrintWriter(System.out, true),
            new PrintWriter(System.err, true),
            args));
  }

  /** Runs one command line; what {@code main} does, minus the exit. */
  public static int run(VfioCtl ctl, PrintWriter out, PrintWriter err, String... args) {
    CommandLine commandLine = new CommandLine(ctl);
    commandLine.setOut(out);
    commandLine.setErr(err);
    commandLine.setExecutionExceptionHandler(
        (e, line, parsed) -> {
          // Every expected failure carries a message written for the admin; a stack trace would
          // only bury it. Anything else is a bug and keeps its trace.
          if (e instanceof CommandFailure || e instanceof IOException) {
            line.getErr().println("vfioctl: " + e.getMessage());
          } else {
            e.printStackTrace(line.getErr());
          }
          return 1;
        });
    return commandLine.execute(args);
  }

  VfioDevices devices() {
    return devices;
  }

  ProcessDevices processes() {
    return processes;
  }

  KernelDeviceAccess access() {
    return access.get();
  }

  /**
   * After {@code failure} left the device anywhere: brings it back to RUNNING and says how, or says
   * that it could not.
   */
  static CommandFailure recovered(
      String address, Exception failure, MigrationStateMachine machine) {
    String outcome;
    try {
      Recovery recovery = machine.recoverToRunning();
      outcome = "recovered: " + recovery.describe();
    } catch (IOException e) {
      outcome = "and " + address + " could NOT be brought back to RUNNING: " + e.getMessage();
    }
    return new CommandFailure(failure.getMessage() + "; " + outcome, failure);
  }
}
