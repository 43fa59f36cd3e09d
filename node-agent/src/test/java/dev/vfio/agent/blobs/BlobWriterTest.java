package dev.vfio.agent.blobs;

import static dev.vfio.agent.blobs.BlobFixtures.header;
import static dev.vfio.agent.blobs.BlobFixtures.state;
import static dev.vfio.agent.blobs.BlobFixtures.writeBlob;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vfio.agent.vfio.DeviceIdentity;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BlobWriterTest {
  private static final int MIB = 1024 * 1024;

  @TempDir Path dir;

  @Test
  void abortLeavesNoFile() throws Exception {
    BlobWriter writer =
        BlobWriter.create(dir.resolve("0000:65:00.0.vfs"), header(BlobCompression.ZSTD));
    writer.write(ByteBuffer.wrap(state(3 * MIB)));

    writer.abort();

    assertEquals(List.of(), everythingIn(dir));
  }

  @Test
  void closeWithoutCommitLeavesNoFile() throws Exception {
    try (BlobWriter writer =
        BlobWriter.create(dir.resolve("0000:65:00.0.vfs"), header(BlobCompression.NONE))) {
      writer.write(ByteBuffer.wrap(state(1000)));
    }

    assertEquals(List.of(), everythingIn(dir));
  }

  @Test
  void writeFailingOnAFullVolumeLeavesNoFileAfterAbort() throws Exception {
    BlobWriter writer =
        BlobWriter.create(
            dir.resolve("0000:65:00.0.vfs"),
            header(BlobCompression.NONE),
            temporary -> new FullDiskChannel(open(temporary), MIB, false));

    // Chunks are emitted behind those in the background, so the failure needs a few more.
    IOException failure =
        assertThrows(
            IOException.class,
            () -> writer.write(ByteBuffer.wrap(state((BlobEncoder.IN_FLIGHT + 3) * MIB))));
    assertEquals("No space left on device", failure.getMessage());
    assertTrue(Files.exists(writer.temporaryPath()));
    assertThrows(IllegalStateException.class, writer::commit);

    writer.abort();
    assertEquals(List.of(), everythingIn(dir));
  }

  @Test
  void commitFailingToFsyncLeavesNoFile() throws Exception {
    BlobWriter writer =
        BlobWriter.create(
            dir.resolve("0000:65:00.0.vfs"),
            header(BlobCompression.ZSTD),
            temporary -> new FullDiskChannel(open(temporary), Long.MAX_VALUE, true));
    writer.write(ByteBuffer.wrap(state(1000)));

    assertThrows(IOException.class, writer::commit);

    assertEquals(List.of(), everythingIn(dir));
  }

  @Test
  void writebackFailingWhileTheStateIsStillWrittenFailsTheSaveAndLeavesNoFile() throws Exception {
    BlobWriter writer =
        BlobWriter.create(
            dir.resolve("0000:65:00.0.vfs"),
            header(BlobCompression.NONE),
            temporary -> new FullDiskChannel(open(temporary), Long.MAX_VALUE, true));
    byte[] chunk = state(MIB);
    int chunks = (int) (3 * BlobWriter.WRITEBACK_BYTES / MIB);

    // The first writeback fails in the background; a later write or the commit reports it.
    IOException failure =
        assertThrows(
            IOException.class,
            () -> {
              for (int i = 0; i < chunks; i++) {
                writer.write(ByteBuffer.wrap(chunk));
              }
              writer.commit();
            });
    assertTrue(failure.getMessage().contains("Input/output error"), failure.getMessage());

    writer.abort();
    assertEquals(List.of(), everythingIn(dir));
  }

  @Test
  void blobLargerThanTheWritebackIntervalReadsBackIntact() throws Exception {
    Path target = dir.resolve("0000:65:00.0.vfs");
    byte[] chunk = state(MIB);
    int chunks = (int) (2 * BlobWriter.WRITEBACK_BYTES / MIB) + 1;
    try (BlobWriter writer = BlobWriter.create(target, header(BlobCompression.NONE))) {
      for (int i = 0; i < chunks; i++) {
        writer.write(ByteBuffer.wrap(chunk));
      }
      writer.commit();
    }

    try (BlobReader reader = BlobReader.open(target)) {
      assertEquals((long) chunks * MIB, reader.verify().stateBytes());
    }
  }

  @Test
  void headerThatDoesNotFitTheVolumeLeavesNoFile() throws Exception {
    assertThrows(
        IOException.class,
        () ->
            BlobWriter.create(
                dir.resolve("0000:65:00.0.vfs"),
                header(BlobCompression.NONE),
                temporary -> new FullDiskChannel(open(temporary), 0, false)));

    assertEquals(List.of(), everythingIn(dir));
  }

  @Test
  void blobIsListedUnderItsNameOnlyOnceCommitted() throws Exception {
    Path target = dir.resolve("0000:65:00.0.vfs");
    try (BlobWriter writer = BlobWriter.create(target, header(BlobCompression.NONE))) {
      writer.write(ByteBuffer.wrap(state(2 * MIB)));

      Path temporary = writer.temporaryPath();
      assertEquals(dir, temporary.getParent());
      assertNotEquals(target, temporary);
      assertTrue(temporary.getFileName().toString().startsWith("."));
      assertFalse(temporary.getFileName().toString().endsWith(".vfs"));
      assertTrue(BlobWriter.isTemporaryName(temporary.getFileName().toString()));
      assertTrue(Files.exists(temporary));
      assertEquals(List.of(), blobsIn(dir));

      writer.commit();
      assertEquals(List.of(target), blobsIn(dir));
      assertFalse(Files.exists(temporary));
    }
    assertTrue(Files.exists(target));
  }

  @Test
  void twoWritersOfTheSameBlobUseDistinctTemporaryFiles() throws Exception {
    Path target = dir.resolve("0000:65:00.0.vfs");
    try (BlobWriter first = BlobWriter.create(target, header(BlobCompression.NONE));
        BlobWriter second = BlobWriter.create(target, header(BlobCompression.NONE))) {
      assertNotEquals(first.temporaryPath(), second.temporaryPath());
    }
  }

  @Test
  void blobIsOwnerOnlyAndSoAreTheDirectoriesCreatedForIt() throws Exception {
    Path target = dir.resolve("default").resolve("nightly").resolve("0000:65:00.0.vfs");
    try (BlobWriter writer = BlobWriter.create(target, header(BlobCompression.NONE))) {
      assertEquals("rw-------", permissions(writer.temporaryPath()));
      writer.write(ByteBuffer.wrap(state(10)));
      writer.commit();
    }

    assertEquals("rw-------", permissions(target));
    assertEquals("rwx------", permissions(target.getParent()));
    assertEquals("rwx------", permissions(target.getParent().getParent()));
  }

  @Test
  void committingAgainReplacesTheEarlierBlobWhole() throws Exception {
    Path target = dir.resolve("0000:65:00.0.vfs");
    writeBlob(target, BlobCompression.NONE, state(5000));

    BlobSummary second = writeBlob(target, BlobCompression.ZSTD, state(7000));

    try (BlobReader reader = BlobReader.open(target)) {
      assertEquals(BlobCompression.ZSTD, reader.header().compression());
      assertEquals(second, reader.verify());
    }
    assertEquals(List.of(target), everythingIn(dir));
  }

  @Test
  void writingAfterCommitIsRefused() throws Exception {
    try (BlobWriter writer =
        BlobWriter.create(dir.resolve("0000:65:00.0.vfs"), header(BlobCompression.NONE))) {
      writer.commit();

      assertThrows(IllegalStateException.class, () -> writer.write(ByteBuffer.allocate(1)));
    }
  }

  @Test
  void headerOfAnotherFormatVersionIsRefused() throws Exception {
    BlobHeader past =
        new BlobHeader(
            1,
            new DeviceIdentity("0000:65:00.0", "vfio-pci", "8086", "1234", "1"),
            List.of("STOP_COPY"),
            "6.8.0",
            "node-a",
            "default",
            "vm-0",
            "nightly",
            "2025-03-01T12:00:00Z",
            BlobCompression.NONE);

    assertThrows(
        IllegalArgumentException.class,
        () -> BlobWriter.create(dir.resolve("0000:65:00.0.vfs"), past));
    assertEquals(List.of(), everythingIn(dir));
  }

  private static FileChannel open(Path temporary) throws IOException {
    return FileChannel.open(temporary, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
  }

  private static String permissions(Path path) throws IOException {
    return PosixFilePermissions.toString(Files.getPosixFilePermissions(path));
  }

  private static List<Path> blobsIn(Path dir) throws IOException {
    List<Path> blobs = new ArrayList<>();
    try (DirectoryStream<Path> listing = Files.newDirectoryStream(dir, "*.vfs")) {
      listing.forEach(blobs::add);
    }
    return blobs;
  }

  private static List<Path> everythingIn(Path dir) throws IOException {
    try (Stream<Path> listing = Files.list(dir)) {
      return listing.toList();
    }
  }
}
