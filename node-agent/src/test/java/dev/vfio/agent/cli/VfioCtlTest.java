package dev.vfio.agent.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vfio.agent.blobs.BlobCompression;
import dev.vfio.agent.blobs.BlobHeader;
import dev.vfio.agent.blobs.BlobIdentity;
import dev.vfio.agent.blobs.BlobKey;
import dev.vfio.agent.blobs.BlobWriter;
import dev.vfio.agent.vfio.DeviceIdentity;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * What {@code vfioctl} does with bad input on a machine without VFIO devices: exit status 1 and one
 * line naming what was wrong, with nothing created. The kernel test bed runs the commands against a
 * real device.
 */
class VfioCtlTest {
  private static final int SELF = (int) ProcessHandle.current().pid();

  @TempDir Path dir;

  final StringWriter out = new StringWriter();
  final StringWriter err = new StringWriter();

  int run(String... args) {
    return VfioCtl.run(
        VfioCtl.ofSystem(), new PrintWriter(out, true), new PrintWriter(err, true), args);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "devices",
        "probe",
        "save",
        "load",
        "save-group",
        "load-group",
        "set-state",
        "recover"
      })
  void everySubcommandShowsItsHelp(String subcommand) {
    assertEquals(0, run(subcommand, "--help"), err::toString);
    assertTrue(out.toString().contains("Usage: vfioctl " + subcommand), out.toString());
  }

  @Test
  void aPathThatIsNotVfioIsRefusedNamingIt() {
    assertEquals(1, run("probe", "/dev/null"));
    assertTrue(
        err.toString()
            .startsWith("vfioctl: /dev/null is not a VFIO device: give a PCI" + " address"),
        err.toString());
  }

  @Test
  void anFdThatIsNotVfioIsRefusedNamingWhatItIs() {
    // fd 0 of this JVM is whatever the build runs it with, never a VFIO device.
    assertEquals(
        1,
        run(
            "save",
            "--pid",
            String.valueOf(SELF),
            "--fd",
            "0",
            "--out",
            dir.resolve("state.vfs").toString()));
    assertTrue(
        err.toString()
            .matches("(?s)vfioctl: fd 0 of process " + SELF + " is .*, not a VFIO device fd\\s*"),
        err.toString());
    assertFalse(Files.exists(dir.resolve("state.vfs")));
  }

  @Test
  void aMissingFdIsRefusedNamingIt() {
    assertEquals(1, run("probe", "--pid", String.valueOf(SELF), "--fd", "65000"));
    assertEquals("vfioctl: process " + SELF + " has no fd 65000\n", err.toString());
  }

  @Test
  void aBlobThatIsNotABlobIsRefusedBeforeAnyDeviceIsLookedAt() throws Exception {
    Path junk = Files.writeString(dir.resolve("junk.vfs"), "not a blob at all, just text");

    assertEquals(1, run("load", "/dev/null", "--in", junk.toString()));
    assertEquals("vfioctl: blob " + junk + ": bad magic: not a VFIO state blob\n", err.toString());
  }

  @Test
  void aSealedBlobIsCheckedWithTheKeyAndSnapshotGivenBeforeAnyDeviceIsLookedAt() throws Exception {
    byte[] keyBytes = new byte[32];
    keyBytes[0] = 5;
    Path key = Files.write(dir.resolve("blob.key"), keyBytes);
    Path blob = dir.resolve("0000:65:00.0.vfs");
    DeviceIdentity device =
        new DeviceIdentity("0000:65:00.0", "mlx5_vfio_pci", "15b3", "101e", "42");
    BlobHeader header =
        new BlobHeader(
            BlobHeader.FORMAT_VERSION,
            device,
            List.of("STOP_COPY"),
            "6.8.0-51-generic",
            "node-a",
            "default",
            "vm-0",
            "nightly",
            "2025-03-01T12:00:00Z",
            BlobCompression.NONE);
    try (BlobWriter writer =
        BlobWriter.create(
            blob, header, BlobKey.of(keyBytes), new BlobIdentity("uid-1", "0000:65:00.0"))) {
      writer.write(ByteBuffer.wrap(new byte[5000]));
      writer.commit();
    }

    assertEquals(1, run("load", "/dev/null", "--in", blob.toString()));
    assertTrue(err.toString().contains("is sealed: give the operator's blob key"), err::toString);

    err.getBuffer().setLength(0);
    assertEquals(1, loadSealed(blob, key, "uid-2"));
    assertTrue(err.toString().contains("fails its tag"), err::toString);

    // With the right snapshot the blob passes, and only the device is left to refuse.
    err.getBuffer().setLength(0);
    assertEquals(1, loadSealed(blob, key, "uid-1"));
    assertTrue(err.toString().contains("/dev/null is not a VFIO device"), err::toString);
  }

  private int loadSealed(Path blob, Path key, String snapshotUid) {
    return run(
        "load",
        "/dev/null",
        "--in",
        blob.toString(),
        "--key",
        key.toString(),
        "--snapshot-uid",
        snapshotUid);
  }

  @Test
  void anExistingBlobIsNotOverwritten() throws Exception {
    Path existing = Files.writeString(dir.resolve("state.vfs"), "earlier");

    assertEquals(1, run("save", "0000:65:00.0", "--out", existing.toString()));
    assertEquals("vfioctl: " + existing + " exists; nothing done\n", err.toString());
    assertEquals("earlier", Files.readString(existing));
  }

  @Test
  void aGroupMemberWithoutItsFdIsRefusedBeforeAnyDeviceIsTaken() {
    assertEquals(
        1,
        run("save-group", "--pid", String.valueOf(SELF), "--out", dir.toString(), "0000:65:00.0"));
    assertEquals("vfioctl: 0000:65:00.0: give DEVICE=FD; nothing done\n", err.toString());
  }

  @Test
  void aGroupMemberThatIsNotVfioIsRefusedNamingIt() {
    assertEquals(
        1, run("load-group", "--pid", String.valueOf(SELF), "--in", dir.toString(), "/dev/null=0"));
    assertTrue(
        err.toString().startsWith("vfioctl: /dev/null is not a VFIO device"), err.toString());
  }

  @Test
  void aPidWithoutFdIsAUsageError() {
    assertEquals(2, run("probe", "--pid", "1"));
    assertTrue(err.toString().startsWith("--pid and --fd go together"), err.toString());
  }
}
