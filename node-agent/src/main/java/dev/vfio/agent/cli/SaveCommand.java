package dev.vfio.agent.cli;

import static dev.vfio.agent.vfio.MigrationState.RUNNING;
import static dev.vfio.agent.vfio.MigrationState.RUNNING_P2P;
import static dev.vfio.agent.vfio.MigrationState.STOP;
import static dev.vfio.agent.vfio.MigrationState.STOP_COPY;

import dev.vfio.agent.blobs.BlobCompression;
import dev.vfio.agent.blobs.BlobHeader;
import dev.vfio.agent.blobs.BlobSummary;
import dev.vfio.agent.blobs.BlobWriter;
import dev.vfio.agent.vfio.DeviceIdentity;
import dev.vfio.agent.vfio.MigrationState;
import dev.vfio.agent.vfio.MigrationStateMachine;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code vfioctl save}: the device's state into a new blob, the way the agent's Save task does it:
 * one SET to STOP_COPY (the kernel walks the arcs), the data_fd read to its end into a {@link
 * BlobWriter}, then back to the state the device was found in. On any failure the blob is not
 * published and the device is brought back to RUNNING.
 */
@Command(name = "save", description = "Save a device's migration state to a blob file.")
final class SaveCommand implements Callable<Integer> {
  /** States a device can be saved from without stepping on another migration in progress. */
  private static final Set<MigrationState> IDLE = Set.of(RUNNING, RUNNING_P2P, STOP);

  @ParentCommand VfioCtl ctl;

  @Mixin DeviceTarget target;

  @Option(
      names = "--out",
      required = true,
      paramLabel = "FILE",
      description = "The blob to create (.vfs); an existing file is refused.")
  Path out;

  @Option(
      names = "--compression",
      defaultValue = "NONE",
      paramLabel = "NONE|ZSTD",
      description = "How the blob stores the state (default: ${DEFAULT-VALUE}).")
  BlobCompression compression;

  @Spec CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    if (Files.exists(out)) {
      throw new CommandFailure(out + " exists; nothing done");
    }
    try (OpenedDevice opened = target.open(ctl);
        MigrationStateMachine machine = MigrationStateMachine.probe(opened.device())) {
      MigrationState before = machine.state();
      if (!IDLE.contains(before)) {
        throw new CommandFailure(
            opened.address()
                + " is in "
                + before
                + ": another migration is in progress on it; nothing done");
      }
      BlobHeader header = header(opened, machine, compression);
      long started = System.nanoTime();
      BlobSummary summary;
      try (BlobWriter writer = BlobWriter.create(out, header)) {
        machine.transition(STOP_COPY);
        machine.readToEnd(writer, MigrationStateMachine.Progress.NONE);
        summary = writer.commit();
        machine.transition(before);
      } catch (IOException | RuntimeException e) {
        throw VfioCtl.recovered(opened.address(), e, machine);
      }
      PrintWriter printer = spec.commandLine().getOut();
      printer.printf(
          "saved %d bytes of %s state to %s (%d bytes, sha256 %s) in %d ms; device %s%n",
          summary.stateBytes(),
          opened.address(),
          summary.path(),
          summary.storedBytes(),
          summary.sha256Hex(),
          (System.nanoTime() - started) / 1_000_000,
          machine.state());
    }
    return 0;
  }

  /** The header of an unsealed blob of {@code opened}, as vfioctl writes them. */
  static BlobHeader header(
      OpenedDevice opened, MigrationStateMachine machine, BlobCompression compression)
      throws IOException {
    return new BlobHeader(
        BlobHeader.FORMAT_VERSION,
        DeviceIdentity.of(opened.sysfs()),
        machine.flags().names(),
        System.getProperty("os.version"),
        hostname(),
        "",
        "",
        "",
        Instant.now().toString(),
        compression);
  }

  private static String hostname() throws IOException {
    return Files.readString(Path.of("/proc/sys/kernel/hostname"), StandardCharsets.US_ASCII).trim();
  }
}
