package dev.vfio.agent.blobs;

import static dev.vfio.agent.blobs.BlobFixtures.header;
import static dev.vfio.agent.blobs.BlobFixtures.state;
import static dev.vfio.agent.blobs.BlobFixtures.writeBlob;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vfio.agent.vfio.DeviceIdentity;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class BlobRoundTripTest {
  private static final int MIB = 1024 * 1024;

  @TempDir Path dir;

  @ParameterizedTest
  @EnumSource(BlobCompression.class)
  void stateReadsBackAsWritten(BlobCompression compression) throws Exception {
    byte[] state = state(3 * MIB + 12345);
    Path blob = dir.resolve("0000:65:00.0.vfs");

    BlobSummary written = writeBlob(blob, compression, state);

    ByteArrayOutputStream delivered = new ByteArrayOutputStream();
    try (BlobReader reader = BlobReader.open(blob)) {
      assertEquals(header(compression).withDigest(BlobDigest.SHA256_CHUNKS), reader.header());
      assertEquals(written, reader.verify());
      reader.copyTo(
          chunk -> {
            byte[] bytes = new byte[chunk.remaining()];
            chunk.get(bytes);
            delivered.write(bytes);
          });
    }
    assertArrayEquals(state, delivered.toByteArray());
    assertEquals(state.length, written.stateBytes());
    assertEquals(Files.size(blob), written.storedBytes());
    assertEquals(ChunkedSha256.of(state), written.sha256Hex());
  }

  @ParameterizedTest
  @EnumSource(BlobCompression.class)
  void sixtyFourMebibytesStreamThroughInChunksOfAtMostOneMebibyte(BlobCompression compression)
      throws Exception {
    Path blob = dir.resolve("0000:65:00.0.vfs");
    // A piece size that is not a chunk multiple, so writes straddle chunk boundaries.
    GeneratedState state = new GeneratedState(64L * MIB, 777_777, 0x5eed);

    BlobSummary written;
    try (BlobWriter writer = BlobWriter.create(blob, header(compression))) {
      while (state.hasMore()) {
        writer.write(state.next());
      }
      written = writer.commit();
    }

    String expectedDigest = state.chunkedSha256Hex();
    assertEquals(expectedDigest, written.sha256Hex());
    DigestingSink device = new DigestingSink();
    try (BlobReader reader = BlobReader.open(blob)) {
      assertEquals(expectedDigest, reader.verify().sha256Hex());
      reader.copyTo(device);
    }
    assertEquals(64L * MIB, device.bytes);
    assertEquals(state.sha256Hex(), device.sha256Hex());
    assertEquals(64, device.chunks);
    assertEquals(MIB, device.largestChunk);
  }

  @Test
  void zstdStoresCompressibleStateInLessSpace() throws Exception {
    byte[] state = new byte[4 * MIB];

    BlobSummary plain = writeBlob(dir.resolve("0000:65:00.0.vfs"), BlobCompression.NONE, state);
    BlobSummary zstd = writeBlob(dir.resolve("0000:65:00.1.vfs"), BlobCompression.ZSTD, state);

    assertTrue(plain.storedBytes() > state.length);
    assertTrue(zstd.storedBytes() < state.length / 100, "stored " + zstd.storedBytes());
  }

  @ParameterizedTest
  @EnumSource(BlobCompression.class)
  void emptyStateIsAValidBlob(BlobCompression compression) throws Exception {
    Path blob = dir.resolve("0000:65:00.0.vfs");

    writeBlob(blob, compression, new byte[0]);

    DigestingSink device = new DigestingSink();
    try (BlobReader reader = BlobReader.open(blob)) {
      assertEquals(0, reader.verify().stateBytes());
      reader.copyTo(device);
    }
    assertEquals(0, device.chunks);
  }

  @Test
  void oneWriteLargerThanAChunkIsSplitIntoChunks() throws Exception {
    Path blob = dir.resolve("0000:65:00.0.vfs");
    ByteBuffer state = ByteBuffer.wrap(state(5 * MIB / 2));

    try (BlobWriter writer = BlobWriter.create(blob, header(BlobCompression.NONE))) {
      writer.write(state);
      assertEquals(0, state.remaining());
      writer.commit();
    }

    DigestingSink device = new DigestingSink();
    try (BlobReader reader = BlobReader.open(blob)) {
      reader.copyTo(device);
    }
    assertEquals(3, device.chunks);
  }

  @Test
  void stateIsRefusedForADeviceWithAnotherDriverOrIds() throws Exception {
    Path blob = dir.resolve("0000:65:00.0.vfs");
    writeBlob(blob, BlobCompression.NONE, state(100));

    try (BlobReader reader = BlobReader.open(blob)) {
      assertDoesNotThrow(
          () ->
              reader.requireCompatibleWith(
                  new DeviceIdentity("0000:b3:00.0", "mlx5_vfio_pci", "15B3", "101E", "7")));
      IncompatibleDeviceException refused =
          assertThrows(
              IncompatibleDeviceException.class,
              () ->
                  reader.requireCompatibleWith(
                      new DeviceIdentity("0000:b3:00.0", "mlx5_vfio_pci", "15b3", "101d", "7")));
      assertTrue(refused.getMessage().contains("0000:b3:00.0"), refused.getMessage());
      assertTrue(refused.getMessage().contains("15b3:101e"), refused.getMessage());
    }
  }

  @Test
  void stateFilledIntoLentBuffersReadsBackAsWrittenBetweenOrdinaryWrites() throws Exception {
    byte[] state = state(5 * MIB + 999);
    Path blob = dir.resolve("0000:65:00.0.vfs");

    BlobSummary written;
    try (BlobWriter writer = BlobWriter.create(blob, header(BlobCompression.NONE))) {
      writer.write(ByteBuffer.wrap(state, 0, 1000));
      int at = 1000;
      while (at < state.length) {
        ByteBuffer lent = writer.lend();
        int n = Math.min(Math.min(lent.remaining(), 700_000), state.length - at);
        lent.put(state, at, n);
        writer.lentFilled(lent);
        at += n;
      }
      written = writer.commit();
    }
    try (BlobWriter other =
        BlobWriter.create(dir.resolve("0000:66:00.0.vfs"), header(BlobCompression.NONE))) {
      other.lend();
      assertThrows(
          IllegalStateException.class, () -> other.lentFilled(ByteBuffer.allocateDirect(10)));
    }

    DigestingSink device = new DigestingSink();
    try (BlobReader reader = BlobReader.open(blob)) {
      assertEquals(written, reader.verify());
      reader.copyTo(device);
    }
    assertEquals(
        HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(state)),
        device.sha256Hex());
    assertEquals(ChunkedSha256.of(state), written.sha256Hex());
    assertEquals(MIB, device.largestChunk);
  }

  @Test
  void blobOfFormatVersionOneStillReadsWithItsWholeStateSha256() throws Exception {
    byte[] state = state(4 * MIB + 777);
    Path blob = dir.resolve("0000:65:00.0.vfs");
    Files.write(blob, versionOneBlob(state));

    DigestingSink device = new DigestingSink();
    try (BlobReader reader = BlobReader.open(blob)) {
      assertEquals(BlobDigest.SHA256, reader.header().digest());
      BlobSummary verified = reader.verify();
      assertEquals(
          HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(state)),
          verified.sha256Hex());
      reader.copyTo(device);
    }
    assertEquals(state.length, device.bytes);

    byte[] damaged = versionOneBlob(state);
    // A bit of the last chunk flipped and its CRC rewritten: only the SHA-256 can tell.
    int lastChunk = damaged.length - 4 - 8 - 32 - 4 - 777;
    damaged[lastChunk + 776] ^= 1;
    CRC32C crc = new CRC32C();
    crc.update(damaged, lastChunk, 777);
    ByteBuffer.wrap(damaged).putInt(lastChunk - Integer.BYTES, (int) crc.getValue());
    Files.write(blob, damaged);
    BlobIntegrityException refused =
        assertThrows(
            BlobIntegrityException.class,
            () -> {
              try (BlobReader reader = BlobReader.open(blob)) {
                reader.verify();
              }
            });
    assertTrue(refused.getMessage().contains("SHA-256 mismatch"), refused.getMessage());
  }

  /** A blob as format version 1 wrote it: no digest in the header, one SHA-256 of the state. */
  private static byte[] versionOneBlob(byte[] state) throws Exception {
    byte[] json =
        ("{\"formatVersion\":1,\"device\":{\"address\":\"0000:65:00.0\","
                + "\"driver\":\"mlx5_vfio_pci\",\"vendorId\":\"15b3\",\"deviceId\":\"101e\","
                + "\"iommuGroup\":\"42\"},\"migrationFlags\":[\"STOP_COPY\"],"
                + "\"kernelRelease\":\"6.1.0\",\"node\":\"node-a\",\"namespace\":\"default\","
                + "\"pod\":\"vm-0\",\"snapshot\":\"nightly\",\"createdAt\":\"2025-03-01T12:00:00Z\","
                + "\"compression\":\"NONE\"}")
            .getBytes(StandardCharsets.UTF_8);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteBuffer head = ByteBuffer.allocate(BlobFormat.PREFIX_BYTES + json.length);
    head.put(BlobFormat.MAGIC).putShort((short) 1).putInt(json.length).put(json).flip();
    out.write(head.array());
    out.write(u32(BlobFormat.crc32c(head)));
    for (int offset = 0; offset < state.length; offset += MIB) {
      ByteBuffer chunk = ByteBuffer.wrap(state, offset, Math.min(MIB, state.length - offset));
      out.write(u32(chunk.remaining()));
      out.write(u32(BlobFormat.crc32c(chunk)));
      out.write(state, offset, chunk.remaining());
    }
    out.write(u32(BlobFormat.END_MARKER));
    ByteBuffer body = ByteBuffer.allocate(BlobFormat.TRAILER_BODY_BYTES);
    body.putLong(state.length).put(MessageDigest.getInstance("SHA-256").digest(state)).flip();
    out.write(body.array());
    out.write(u32(BlobFormat.crc32c(body)));
    return out.toByteArray();
  }

  private static byte[] u32(int value) {
    return ByteBuffer.allocate(Integer.BYTES).putInt(value).array();
  }
}
