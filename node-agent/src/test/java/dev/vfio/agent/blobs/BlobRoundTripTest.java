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
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
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
      assertEquals(header(compression), reader.header());
      assertEquals(written, reader.verify());
      reader.copyTo(chunk -> {
        byte[] bytes = new byte[chunk.remaining()];
        chunk.get(bytes);
        delivered.write(bytes);
      });
    }
    assertArrayEquals(state, delivered.toByteArray());
    assertEquals(state.length, written.stateBytes());
    assertEquals(Files.size(blob), written.storedBytes());
    assertEquals(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(state)),
        written.sha256Hex());
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

    String expectedSha = state.sha256Hex();
    assertEquals(expectedSha, written.sha256Hex());
    DigestingSink device = new DigestingSink();
    try (BlobReader reader = BlobReader.open(blob)) {
      assertEquals(expectedSha, reader.verify().sha256Hex());
      reader.copyTo(device);
    }
    assertEquals(64L * MIB, device.bytes);
    assertEquals(expectedSha, device.sha256Hex());
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
      assertDoesNotThrow(() -> reader.requireCompatibleWith(
          new DeviceIdentity("0000:b3:00.0", "mlx5_vfio_pci", "15B3", "101E", "7")));
      IncompatibleDeviceException refused = assertThrows(IncompatibleDeviceException.class,
          () -> reader.requireCompatibleWith(
              new DeviceIdentity("0000:b3:00.0", "mlx5_vfio_pci", "15b3", "101d", "7")));
      assertTrue(refused.getMessage().contains("0000:b3:00.0"), refused.getMessage());
      assertTrue(refused.getMessage().contains("15b3:101e"), refused.getMessage());
    }
  }
}
