package dev.vfio.agent.blobs;

import static dev.vfio.agent.blobs.BlobFixtures.header;
import static dev.vfio.agent.blobs.BlobFixtures.state;
import static dev.vfio.agent.blobs.BlobFixtures.writeBlob;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.NullSource;
import org.junit.jupiter.params.provider.ValueSource;

class BlobStoreTest {
  private static final String DEVICE = "0000:65:00.0";

  @TempDir Path snapshots;
  @TempDir Path archive;
  private BlobStore store;

  @BeforeEach
  void mountTwoClaims() {
    store = new BlobStore(Map.of("vfio-snapshots", snapshots, "archive", archive));
  }

  @Test
  void blobLivesUnderClaimNamespaceSnapshotAndDevice() {
    assertEquals(
        snapshots.resolve("default/nightly-2025.03/0000:65:00.0.vfs"),
        store.blobPath("vfio-snapshots", "default", "nightly-2025.03", DEVICE));
    assertEquals(
        archive.resolve("ml/s1/6f3c2b1a-9d8e-4f7a-b6c5-d4e3f2a1b0c9.vfs"),
        store.blobPath("archive", "ml", "s1", "6f3c2b1a-9d8e-4f7a-b6c5-d4e3f2a1b0c9"));
  }

  @Test
  void theLongestValidNamesGiveBlobAndTemporaryFileNamesEveryFileSystemTakes() throws Exception {
    String namespace = "n".repeat(63);
    String snapshot = "1234567890.".repeat(23).substring(0, 252) + "0";
    String mdev = "6f3c2b1a-9d8e-4f7a-b6c5-d4e3f2a1b0c9";
    Path blob = store.blobPath("vfio-snapshots", namespace, snapshot, mdev);
    BlobWriter crashed = BlobWriter.create(blob, header(BlobCompression.NONE));

    // NAME_MAX: at most 255 bytes for each part of a path, ext4's and XFS's limit as Linux's.
    for (Path part : snapshots.relativize(crashed.temporaryPath())) {
      assertTrue(part.toString().getBytes(StandardCharsets.UTF_8).length <= 255, part.toString());
    }
    writeBlob(blob, BlobCompression.NONE, state(100));
    assertTrue(Files.exists(blob));
    assertEquals(1, store.deleteTemporaryFiles("vfio-snapshots", namespace, snapshot));
    crashed.abort();
  }

  @Test
  void claimsAreListedInNameOrder() {
    assertEquals(List.of("archive", "vfio-snapshots"), List.copyOf(store.claims()));
  }

  @Test
  void unknownClaimIsRefusedNamingTheKnownClaims() {
    UnknownStorageClaimException refused =
        assertThrows(
            UnknownStorageClaimException.class,
            () -> store.blobPath("scratch", "default", "nightly", DEVICE));

    assertEquals(
        "storage claim scratch is not mounted into this agent; known claims: archive, "
            + "vfio-snapshots",
        refused.getMessage());
  }

  @ParameterizedTest
  @NullSource
  @ValueSource(
      strings = {
        "",
        ".",
        "..",
        "../etc",
        "/etc",
        "a/b",
        "Default",
        "my.ns",
        "-ns",
        "ns-",
        "ns\u0000",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
      })
  void namespaceThatIsNotANamespaceNameIsRefused(String namespace) {
    IllegalArgumentException refused =
        assertThrows(
            IllegalArgumentException.class,
            () -> store.blobPath("vfio-snapshots", namespace, "nightly", DEVICE));

    assertTrue(refused.getMessage().startsWith("namespace "), refused.getMessage());
  }

  @ParameterizedTest
  @NullSource
  @ValueSource(
      strings = {
        "",
        ".",
        "..",
        "../../etc",
        "/etc/passwd",
        "a/../b",
        "a..b",
        "Nightly",
        "nightly.",
        "snap shot"
      })
  void snapshotThatIsNotAnObjectNameIsRefused(String snapshot) {
    IllegalArgumentException refused =
        assertThrows(
            IllegalArgumentException.class,
            () -> store.blobPath("vfio-snapshots", "default", snapshot, DEVICE));

    assertTrue(refused.getMessage().startsWith("snapshot "), refused.getMessage());
  }

  @ParameterizedTest
  @NullSource
  @ValueSource(
      strings = {
        "",
        "..",
        "../x",
        "/dev/vfio/7",
        "0000:65:00.0/../../x",
        "65:00.0",
        "0000:65:00.8",
        "0000:65:20.0",
        "0000:65:00.A",
        "0000:65:00.0 ",
        "6F3C2B1A-9D8E-4F7A-B6C5-D4E3F2A1B0C9",
        "6f3c2b1a9d8e4f7ab6c5d4e3f2a1b0c9"
      })
  void deviceThatIsNeitherAPciAddressNorAnMdevUuidIsRefused(String device) {
    IllegalArgumentException refused =
        assertThrows(
            IllegalArgumentException.class,
            () -> store.blobPath("vfio-snapshots", "default", "nightly", device));

    assertTrue(refused.getMessage().startsWith("device "), refused.getMessage());
  }

  @Test
  void symbolicLinkLeadingOutOfTheClaimIsRefused() throws Exception {
    Path link = Files.createSymbolicLink(snapshots.resolve("default"), archive);

    IllegalArgumentException refused =
        assertThrows(
            IllegalArgumentException.class,
            () -> store.blobPath("vfio-snapshots", "default", "nightly", DEVICE));

    assertTrue(refused.getMessage().contains("through a symbolic link"), refused.getMessage());
    Files.delete(link);
  }

  @Test
  void claimNameThatIsNotAnObjectNameIsRefused() {
    assertThrows(
        IllegalArgumentException.class, () -> new BlobStore(Map.of("../claims", snapshots)));
  }

  @Test
  void deletingASnapshotRemovesItsBlobsAndTemporaryFilesAndNothingElse() throws Exception {
    writeBlob(
        store.blobPath("vfio-snapshots", "default", "nightly", DEVICE),
        BlobCompression.NONE,
        state(1000));
    Path other = store.blobPath("vfio-snapshots", "default", "weekly", DEVICE);
    writeBlob(other, BlobCompression.NONE, state(1000));
    BlobWriter abandoned =
        BlobWriter.create(
            store.blobPath("vfio-snapshots", "default", "nightly", "0000:65:00.1"),
            header(BlobCompression.NONE));
    abandoned.write(ByteBuffer.wrap(state(1000)));

    store.deleteDirectory("vfio-snapshots", "default", "nightly");

    assertFalse(Files.exists(snapshots.resolve("default/nightly")));
    assertTrue(Files.exists(other));
    abandoned.abort();
  }

  @Test
  void deletingASnapshotTwiceOrOneNeverWrittenSucceeds() throws Exception {
    writeBlob(
        store.blobPath("vfio-snapshots", "default", "nightly", DEVICE),
        BlobCompression.ZSTD,
        state(1000));

    store.deleteDirectory("vfio-snapshots", "default", "nightly");
    store.deleteDirectory("vfio-snapshots", "default", "nightly");
    store.deleteDirectory("archive", "elsewhere", "never-written");

    assertFalse(Files.exists(snapshots.resolve("default/nightly")));
  }

  @Test
  void deletingASnapshotThroughALinkDeletesTheLinkNotItsTarget() throws Exception {
    Path kept =
        writeBlob(
                store.blobPath("vfio-snapshots", "default", "weekly", DEVICE),
                BlobCompression.NONE,
                state(100))
            .path();
    Files.createSymbolicLink(snapshots.resolve("default/nightly"), kept.getParent());

    store.deleteDirectory("vfio-snapshots", "default", "nightly");

    assertFalse(Files.exists(snapshots.resolve("default/nightly"), LinkOption.NOFOLLOW_LINKS));
    assertTrue(Files.exists(kept));
  }

  @Test
  void sweepingTemporaryFilesKeepsCommittedBlobs() throws Exception {
    Path blob = store.blobPath("vfio-snapshots", "default", "nightly", DEVICE);
    writeBlob(blob, BlobCompression.NONE, state(100));
    BlobWriter crashed =
        BlobWriter.create(
            store.blobPath("vfio-snapshots", "default", "nightly", "0000:65:00.1"),
            header(BlobCompression.NONE));

    assertEquals(1, store.deleteTemporaryFiles("vfio-snapshots", "default", "nightly"));

    assertFalse(Files.exists(crashed.temporaryPath()));
    assertTrue(Files.exists(blob));
    assertEquals(0, store.deleteTemporaryFiles("vfio-snapshots", "default", "never-written"));
    crashed.abort();
  }

  @Test
  void spaceIsReportedForEveryClaim() throws Exception {
    List<ClaimSpace> space = store.space();

    assertEquals(
        List.of("archive", "vfio-snapshots"), space.stream().map(ClaimSpace::claim).toList());
    for (ClaimSpace claim : space) {
      assertTrue(claim.totalBytes() > 0, claim.toString());
      assertTrue(claim.freeBytes() <= claim.totalBytes(), claim.toString());
    }
    assertEquals(Set.of(archive, snapshots), Set.of(space.get(0).root(), space.get(1).root()));
  }
}
