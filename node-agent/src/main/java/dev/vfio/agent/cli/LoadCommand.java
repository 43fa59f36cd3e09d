package dev.vfio.agent.cli;

import static dev.vfio.agent.vfio.MigrationState.RESUMING;
import static dev.vfio.agent.vfio.MigrationState.RUNNING;

import dev.vfio.agent.blobs.BlobIdentity;
import dev.vfio.agent.blobs.BlobKey;
import dev.vfio.agent.blobs.BlobKeyRing;
import dev.vfio.agent.blobs.BlobReader;
import dev.vfio.agent.blobs.BlobSummary;
import dev.vfio.agent.devices.VfioDevice;
import dev.vfio.agent.vfio.DeviceIdentity;
import dev.vfio.agent.vfio.MigrationState;
import dev.vfio.agent.vfio.MigrationStateMachine;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code vfioctl load}: a blob's state into a RUNNING device. The whole blob is verified and
 * matched against the device before the device is even opened, so a damaged, truncated or foreign
 * blob changes nothing. Then RUNNING → RESUMING in one SET, the state written, → RUNNING; the
 * device checks the data on leaving RESUMING. On any failure the device is brought back to RUNNING
 * (by a reset when it refused the data). A sealed blob, as agents save them, is checked against the
 * operator's blob key and the snapshot it belongs to, and refused without them.
 */
@Command(name = "load", description = "Load a blob's migration state into a running device.")
final class LoadCommand implements Callable<Integer> {
  @ParentCommand VfioCtl ctl;

  @Mixin DeviceTarget target;

  @Option(names = "--in", required = true, paramLabel = "FILE", description = "The blob (.vfs).")
  Path in;

  @Option(
      names = "--key",
      paramLabel = "FILE",
      description =
          "The operator's blob key (the 32 bytes of its Secret's blob.key), for a sealed blob;"
              + " or a directory holding the Secret's entries, blob.key and previous-<id>.key.")
  Path key;

  @Option(
      names = "--snapshot-uid",
      paramLabel = "UID",
      description =
          "The UID of the VfioSnapshot (or VfioMigration) a sealed blob belongs to; its tags bind"
              + " it.")
  String snapshotUid;

  @Spec CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    try (BlobReader reader = BlobReader.open(in)) {
      if (reader.sealed()) {
        authenticate(reader);
      }
      BlobSummary blob = reader.verify();
      VfioDevice sysfs = target.resolve(ctl);
      reader.requireCompatibleWith(DeviceIdentity.of(sysfs));
      try (OpenedDevice opened = target.open(ctl, sysfs);
          MigrationStateMachine machine = MigrationStateMachine.probe(opened.device())) {
        MigrationState before = machine.state();
        if (before != RUNNING) {
          throw new CommandFailure(
              opened.address() + " is in " + before + "; loading needs it RUNNING; nothing done");
        }
        long started = System.nanoTime();
        try {
          machine.transition(RESUMING);
          reader.copyTo(machine::writeAll);
          machine.transition(RUNNING);
        } catch (IOException | RuntimeException e) {
          throw VfioCtl.recovered(opened.address(), e, machine);
        }
        spec.commandLine()
            .getOut()
            .printf(
                "loaded %d bytes from %s into %s in %d ms; device %s%n",
                blob.stateBytes(),
                in,
                opened.address(),
                (System.nanoTime() - started) / 1_000_000,
                machine.state());
      }
    }
    return 0;
  }

  /** The blob's identity is its snapshot's UID and its source device, which names the file. */
  private void authenticate(BlobReader reader) throws IOException, CommandFailure {
    if (key == null || snapshotUid == null) {
      throw new CommandFailure(
          in
              + " is sealed: give the operator's blob key (--key) and the UID of the snapshot"
              + " it belongs to (--snapshot-uid); nothing done");
    }
    String file = in.getFileName().toString();
    String device = file.endsWith(".vfs") ? file.substring(0, file.length() - 4) : file;
    BlobKeyRing keys =
        Files.isDirectory(key)
            ? BlobKeyRing.fromDirectory(key)
            : BlobKeyRing.of(BlobKey.fromFile(key));
    reader.authenticate(keys, new BlobIdentity(snapshotUid, device));
  }
}
