package dev.vfio.agent.blobs;

import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.vfio.agent.vfio.DeviceIdentity;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.zip.CRC32C;

/** Headers, small blobs and byte surgery shared by the blob tests. */
final class BlobFixtures {
  static final DeviceIdentity DEVICE =
      new DeviceIdentity("0000:65:00.0", "mlx5_vfio_pci", "15b3", "101e", "42");

  private BlobFixtures() {}

  static BlobHeader header(BlobCompression compression) {
    return new BlobHeader(
        BlobHeader.FORMAT_VERSION,
        DEVICE,
        List.of("STOP_COPY", "PRE_COPY"),
        "6.8.0-51-generic",
        "node-a",
        "default",
        "vm-0",
        "nightly",
        "2025-03-01T12:00:00Z",
        compression);
  }

  static BlobSummary writeBlob(Path target, BlobCompression compression, byte[] state)
      throws IOException {
    try (BlobWriter writer = BlobWriter.create(target, header(compression))) {
      writer.write(ByteBuffer.wrap(state));
      return writer.commit();
    }
  }

  /** State with some structure, so zstd has something to find. */
  static byte[] state(int length) {
    byte[] state = new byte[length];
    for (int i = 0; i < length; i++) {
      state[i] = (byte) ((i / 7) ^ (i >>> 12));
    }
    return state;
  }

  static BlobIntegrityException refusal(Path blob) {
    return assertThrows(
        BlobIntegrityException.class,
        () -> {
          try (BlobReader reader = BlobReader.open(blob)) {
            reader.verify();
          }
        });
  }

  /** Where the first chunk frame starts: after magic, version, header length, header, CRC. */
  static int chunksOffset(Path blob) throws IOException {
    return BlobFormat.PREFIX_BYTES
        + u32(blob, BlobFormat.PREFIX_BYTES - Integer.BYTES)
        + Integer.BYTES;
  }

  static int u32(Path blob, int offset) throws IOException {
    return ByteBuffer.wrap(Files.readAllBytes(blob)).order(ByteOrder.BIG_ENDIAN).getInt(offset);
  }

  static void putU32(Path blob, int offset, int value) throws IOException {
    byte[] bytes = Files.readAllBytes(blob);
    ByteBuffer.wrap(bytes).putInt(offset, value);
    Files.write(blob, bytes);
  }

  /** Flips one bit in place; flipping it again repairs the blob. */
  static void flipBit(Path blob, long offset) throws IOException {
    try (FileChannel channel =
        FileChannel.open(blob, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      ByteBuffer one = ByteBuffer.allocate(1);
      channel.read(one, offset);
      channel.write(one.put(0, (byte) (one.get(0) ^ 0x20)).rewind(), offset);
    }
  }

  /** Recomputes the CRC of the chunk framed at {@code frame}, as a careless repair tool might. */
  static void refreshChunkCrc(Path blob, int frame) throws IOException {
    byte[] bytes = Files.readAllBytes(blob);
    ByteBuffer buffer = ByteBuffer.wrap(bytes);
    CRC32C crc = new CRC32C();
    crc.update(bytes, frame + BlobFormat.CHUNK_FRAME_BYTES, buffer.getInt(frame));
    buffer.putInt(frame + Integer.BYTES, (int) crc.getValue());
    Files.write(blob, bytes);
  }
}
