package dev.vfio.agent.blobs;

import static dev.vfio.agent.blobs.BlobFixtures.header;
import static dev.vfio.agent.blobs.BlobFixtures.state;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A sealed blob changed by someone without the blob key is refused as unauthenticated, however
 * carefully they recompute every CRC: each test below makes a change whose CRCs are all right.
 * Every case runs for each kind of seal: HMAC-SHA-256, which blobs of format 3 were first sealed
 * with and which is still read, and AES-256-GCM, what agents seal with now.
 */
@ParameterizedClass
@EnumSource(
    value = BlobAuthentication.class,
    names = {"HMAC_SHA256", "AES_256_GCM"})
class BlobSealTest {
  static final BlobKey KEY = BlobKey.of(bytes(32, 7));
  static final String SNAPSHOT_UID = "3f1c2a8e-0000-4000-8000-000000000001";
  static final String DEVICE = "0000:65:00.0";
  static final BlobIdentity IDENTITY = new BlobIdentity(SNAPSHOT_UID, DEVICE);

  /** Three full chunks and a short one. */
  static final byte[] STATE = state(3 * BlobFormat.MAX_CHUNK_BYTES + 1000);

  @Parameter BlobAuthentication authentication;

  @TempDir Path dir;
  Path blob;

  @BeforeEach
  void writeSealedBlob() throws IOException {
    blob = dir.resolve(DEVICE + ".vfs");
    seal(blob, BlobCompression.NONE, IDENTITY);
  }

  @ParameterizedTest
  @EnumSource(BlobCompression.class)
  void aSealedBlobReadWithItsKeyAndIdentityDeliversItsState(BlobCompression compression)
      throws IOException {
    seal(blob, compression, IDENTITY);

    try (BlobReader reader = BlobReader.open(blob)) {
      assertTrue(reader.sealed());
      assertEquals(authentication, reader.header().seal().authentication());
      assertEquals(KEY.id(), reader.header().seal().keyId());
      reader.authenticate(KEY, IDENTITY);
      assertEquals(STATE.length, reader.verify().stateBytes());
      assertArrayEquals(STATE, delivered(reader));
    }
  }

  @Test
  void aByteFlippedInAChunkWithItsCrcRecomputedFailsThatChunksTag() throws IOException {
    List<Frame> frames = frames(blob);
    byte[] bytes = Files.readAllBytes(blob);
    Frame second = frames.get(1);
    bytes[second.dataOffset() + 12345] ^= 0x01;
    second.recomputeCrc(bytes);
    Files.write(blob, bytes);

    BlobUnauthenticatedException refused = refusal(KEY, IDENTITY);
    assertTrue(
        refused.getMessage().contains("chunk 1 at byte " + second.offset()), refused::getMessage);
  }

  @Test
  void aBlobCutShortAtAChunkBoundaryWithItsTrailerRewrittenFailsTheEndTag() throws IOException {
    List<Frame> frames = frames(blob);
    byte[] bytes = Files.readAllBytes(blob);
    Frame last = frames.get(frames.size() - 1);
    // The end record and its tag move up over the last chunk; the length and CRC made to match.
    byte[] end = Arrays.copyOfRange(bytes, last.end(), bytes.length);
    ByteBuffer trailer = ByteBuffer.wrap(end);
    trailer.putLong(Integer.BYTES, 3L * BlobFormat.MAX_CHUNK_BYTES);
    trailer.putInt(BlobFormat.END_BYTES - Integer.BYTES, crc(end, Integer.BYTES, 40));
    byte[] cut = new byte[last.offset() + end.length];
    System.arraycopy(bytes, 0, cut, 0, last.offset());
    System.arraycopy(end, 0, cut, last.offset(), end.length);
    Files.write(blob, cut);

    BlobUnauthenticatedException refused = refusal(KEY, IDENTITY);
    assertTrue(refused.getMessage().contains("end record"), refused::getMessage);
  }

  @Test
  void aBlobCutShortMidChunkIsRefusedAsTruncated() throws IOException {
    byte[] bytes = Files.readAllBytes(blob);
    Files.write(blob, Arrays.copyOf(bytes, frames(blob).get(2).dataOffset() + 100));

    BlobIntegrityException refused =
        assertThrows(BlobIntegrityException.class, () -> verify(KEY, IDENTITY));
    assertTrue(refused.getMessage().contains("truncated"), refused::getMessage);
  }

  @Test
  void twoChunksSwappedFailTheFirstOnesTag() throws IOException {
    List<Frame> frames = frames(blob);
    byte[] bytes = Files.readAllBytes(blob);
    Frame first = frames.get(0);
    Frame second = frames.get(1);
    byte[] a = Arrays.copyOfRange(bytes, first.offset(), first.end());
    byte[] b = Arrays.copyOfRange(bytes, second.offset(), second.end());
    assertEquals(a.length, b.length, "full chunks, so the swap keeps every offset");
    System.arraycopy(b, 0, bytes, first.offset(), b.length);
    System.arraycopy(a, 0, bytes, second.offset(), a.length);
    Files.write(blob, bytes);

    BlobUnauthenticatedException refused = refusal(KEY, IDENTITY);
    assertTrue(refused.getMessage().contains("chunk 0 "), refused::getMessage);
  }

  @Test
  void theBlobOfAnotherDeviceOfTheSameSnapshotIsRefused() throws IOException {
    Path other = dir.resolve("0000:65:00.1.vfs");
    seal(other, BlobCompression.NONE, new BlobIdentity(SNAPSHOT_UID, "0000:65:00.1"));
    Files.move(other, blob, java.nio.file.StandardCopyOption.REPLACE_EXISTING);

    BlobUnauthenticatedException refused = refusal(KEY, IDENTITY);
    assertTrue(refused.getMessage().contains("chunk 0 "), refused::getMessage);
  }

  @Test
  void theBlobOfTheSameDeviceInAnotherSnapshotIsRefused() throws IOException {
    seal(blob, BlobCompression.NONE, new BlobIdentity("another-snapshot-uid", DEVICE));

    refusal(KEY, IDENTITY);
  }

  @Test
  void aChunkSplicedInFromAnotherBlobAtTheSameIndexIsRefused() throws IOException {
    Path other = dir.resolve("other.vfs");
    seal(other, BlobCompression.NONE, new BlobIdentity("another-snapshot-uid", DEVICE));
    Frame theirs = frames(other).get(1);
    Frame ours = frames(blob).get(1);
    byte[] bytes = Files.readAllBytes(blob);
    System.arraycopy(
        Files.readAllBytes(other),
        theirs.offset(),
        bytes,
        ours.offset(),
        ours.end() - ours.offset());
    Files.write(blob, bytes);

    BlobUnauthenticatedException refused = refusal(KEY, IDENTITY);
    assertTrue(refused.getMessage().contains("chunk 1 "), refused::getMessage);
  }

  @Test
  void aHeaderChangedWithItsCrcRecomputedFailsTheFirstTag() throws IOException {
    rewriteHeader(blob, "\"vm-0\"", "\"vm-9\"");

    BlobUnauthenticatedException refused = refusal(KEY, IDENTITY);
    assertTrue(refused.getMessage().contains("chunk 0 "), refused::getMessage);
  }

  @Test
  void anotherKeyIsNamedInTheRefusalBeforeAnyChunkIsRead() throws IOException {
    BlobKey other = BlobKey.of(bytes(32, 8));

    BlobUnauthenticatedException refused =
        assertThrows(
            BlobUnauthenticatedException.class,
            () -> {
              try (BlobReader reader = BlobReader.open(blob)) {
                reader.authenticate(other, IDENTITY);
              }
            });
    assertTrue(
        refused.getMessage().contains("sealed with blob key " + KEY.id()), refused::getMessage);
    assertTrue(refused.getMessage().contains("current key " + other.id()), refused::getMessage);
  }

  @Test
  void aBlobWithoutASealIsRefusedByAReaderThatAuthenticates() throws IOException {
    BlobFixtures.writeBlob(blob, BlobCompression.NONE, state(1000));

    BlobUnauthenticatedException refused =
        assertThrows(
            BlobUnauthenticatedException.class,
            () -> {
              try (BlobReader reader = BlobReader.open(blob)) {
                assertEquals(BlobSeal.NONE, reader.header().seal());
                reader.authenticate(KEY, IDENTITY);
              }
            });
    assertTrue(refused.getMessage().contains("carries no seal"), refused::getMessage);
  }

  @Test
  void aSealedBlobIsRefusedByAReaderWithoutAKey() {
    BlobUnauthenticatedException refused =
        assertThrows(
            BlobUnauthenticatedException.class,
            () -> {
              try (BlobReader reader = BlobReader.open(blob)) {
                reader.verify();
              }
            });
    assertTrue(refused.getMessage().contains("no key"), refused::getMessage);
  }

  @Test
  void twoBlobsOfTheSameStateAndIdentityAreSealedUnderDifferentSalts() throws IOException {
    Path again = dir.resolve("again.vfs");
    seal(again, BlobCompression.NONE, IDENTITY);
    try (BlobReader first = BlobReader.open(blob);
        BlobReader second = BlobReader.open(again)) {
      assertTrue(!first.header().seal().salt().equals(second.header().seal().salt()));
    }
  }

  void seal(Path target, BlobCompression compression, BlobIdentity identity) throws IOException {
    Files.deleteIfExists(target);
    try (BlobWriter writer =
        BlobWriter.create(
            target,
            header(compression),
            KEY.newSeal(identity, authentication),
            BlobWriter::openOwnerOnly)) {
      writer.write(ByteBuffer.wrap(STATE));
      writer.commit();
    }
  }

  /** The state {@code reader} delivers. */
  static byte[] delivered(BlobReader reader) throws IOException {
    ByteArrayOutputStream delivered = new ByteArrayOutputStream();
    reader.copyTo(
        chunk -> {
          byte[] copy = new byte[chunk.remaining()];
          chunk.get(copy);
          delivered.writeBytes(copy);
        });
    return delivered.toByteArray();
  }

  /**
   * Replaces {@code from} by {@code to}, of the same length, in the header of {@code blob}, and
   * recomputes the header CRC, as someone who can write the volume would.
   */
  static void rewriteHeader(Path blob, String from, String to) throws IOException {
    byte[] bytes = Files.readAllBytes(blob);
    int headerBytes = ByteBuffer.wrap(bytes).getInt(BlobFormat.PREFIX_BYTES - Integer.BYTES);
    String header = new String(bytes, BlobFormat.PREFIX_BYTES, headerBytes, StandardCharsets.UTF_8);
    byte[] changed = header.replace(from, to).getBytes(StandardCharsets.UTF_8);
    assertEquals(headerBytes, changed.length);
    System.arraycopy(changed, 0, bytes, BlobFormat.PREFIX_BYTES, changed.length);
    int crcAt = BlobFormat.PREFIX_BYTES + headerBytes;
    ByteBuffer.wrap(bytes).putInt(crcAt, crc(bytes, 0, crcAt));
    Files.write(blob, bytes);
  }

  BlobUnauthenticatedException refusal(BlobKey key, BlobIdentity identity) {
    return assertThrows(BlobUnauthenticatedException.class, () -> verify(key, identity));
  }

  void verify(BlobKey key, BlobIdentity identity) throws IOException {
    try (BlobReader reader = BlobReader.open(blob)) {
      reader.authenticate(key, identity);
      reader.verify();
    }
  }

  /** One chunk's frame in a sealed blob: length, CRC, tag, stored bytes. */
  record Frame(int offset, int length) {
    int dataOffset() {
      return offset + BlobFormat.CHUNK_FRAME_BYTES + ChunkSeal.TAG_BYTES;
    }

    int end() {
      return dataOffset() + length;
    }

    void recomputeCrc(byte[] bytes) {
      ByteBuffer.wrap(bytes).putInt(offset + Integer.BYTES, crc(bytes, dataOffset(), length));
    }
  }

  static List<Frame> frames(Path blob) throws IOException {
    ByteBuffer bytes = ByteBuffer.wrap(Files.readAllBytes(blob));
    int at = BlobFixtures.chunksOffset(blob);
    List<Frame> frames = new ArrayList<>();
    for (int length = bytes.getInt(at); length != 0; length = bytes.getInt(at)) {
      Frame frame = new Frame(at, length);
      frames.add(frame);
      at = frame.end();
    }
    return frames;
  }

  static int crc(byte[] bytes, int offset, int length) {
    CRC32C crc = new CRC32C();
    crc.update(bytes, offset, length);
    return (int) crc.getValue();
  }

  static byte[] bytes(int length, int value) {
    byte[] bytes = new byte[length];
    Arrays.fill(bytes, (byte) value);
    return bytes;
  }
}
