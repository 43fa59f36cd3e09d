package dev.vfio.agent.blobs;

import static dev.vfio.agent.blobs.BlobFixtures.chunksOffset;
import static dev.vfio.agent.blobs.BlobFixtures.flipBit;
import static dev.vfio.agent.blobs.BlobFixtures.header;
import static dev.vfio.agent.blobs.BlobFixtures.putU32;
import static dev.vfio.agent.blobs.BlobFixtures.refreshChunkCrc;
import static dev.vfio.agent.blobs.BlobFixtures.refusal;
import static dev.vfio.agent.blobs.BlobFixtures.state;
import static dev.vfio.agent.blobs.BlobFixtures.writeBlob;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class BlobCorruptionTest {
  private static final int MIB = 1024 * 1024;
  private static final int FULL_CHUNK_FRAME = BlobFormat.CHUNK_FRAME_BYTES + MIB;

  @TempDir Path dir;
  private Path blob;

  @BeforeEach
  void nameTheBlob() {
    blob = dir.resolve("0000:65:00.0.vfs");
  }

  @Test
  void blobTruncatedAtAnyStructuralOffsetIsRefused() throws Exception {
    writeBlob(blob, BlobCompression.NONE, state(2 * MIB + 1000));
    byte[] whole = Files.readAllBytes(blob);
    int chunks = chunksOffset(blob);
    int end = whole.length;
    int[] offsets = {
      0,
      4,
      8,
      9,
      10,
      13,
      14,
      chunks / 2,
      chunks - 1,
      chunks,
      chunks + 3,
      chunks + 8,
      chunks + 8 + MIB / 2,
      chunks + FULL_CHUNK_FRAME,
      chunks + 2 * FULL_CHUNK_FRAME + 500,
      end - BlobFormat.END_BYTES,
      end - BlobFormat.END_BYTES + 2,
      end - BlobFormat.END_BYTES + Integer.BYTES,
      end - 20,
      end - 1
    };

    for (int offset : offsets) {
      Files.write(blob, Arrays.copyOf(whole, offset));
      BlobIntegrityException refused = refusal(blob);
      assertTrue(
          refused.getMessage().contains("truncated at byte " + offset),
          offset + ": " + refused.getMessage());
    }
  }

  @ParameterizedTest
  @EnumSource(BlobCompression.class)
  void everyTruncationOfASmallBlobIsRefused(BlobCompression compression) throws Exception {
    writeBlob(blob, compression, state(300));
    byte[] whole = Files.readAllBytes(blob);

    for (int length = 0; length < whole.length; length++) {
      // A new file each time: shrinking one file in place costs a journal commit per length.
      Path truncated = dir.resolve("truncated-" + length + ".vfs");
      Files.write(truncated, Arrays.copyOf(whole, length));
      assertTrue(refusal(truncated).getMessage().contains("truncated"), "length " + length);
    }
  }

  @ParameterizedTest
  @EnumSource(BlobCompression.class)
  void everySingleFlippedBitIsRefused(BlobCompression compression) throws Exception {
    writeBlob(blob, compression, state(300));

    for (long offset = 0; offset < Files.size(blob); offset++) {
      flipBit(blob, offset);
      refusal(blob);
      flipBit(blob, offset);
    }
  }

  @Test
  void flippedBitInAChunkIsRefusedNamingTheChunk() throws Exception {
    writeBlob(blob, BlobCompression.NONE, state(3 * MIB));
    int chunk2 = chunksOffset(blob) + 2 * FULL_CHUNK_FRAME;

    flipBit(blob, chunk2 + BlobFormat.CHUNK_FRAME_BYTES + 12345);

    BlobIntegrityException refused = refusal(blob);
    assertEquals(
        "blob " + blob + ": CRC mismatch in chunk 2 at byte " + chunk2, refused.getMessage());
    assertEquals(blob, refused.file());
  }

  @Test
  void flippedBitInACompressedChunkIsRefusedNamingTheChunk() throws Exception {
    writeBlob(blob, BlobCompression.ZSTD, state(3 * MIB));

    flipBit(blob, chunksOffset(blob) + BlobFormat.CHUNK_FRAME_BYTES + 20);

    assertTrue(refusal(blob).getMessage().contains("CRC mismatch in chunk 0"));
  }

  @Test
  void flippedBitInTheHeaderIsRefused() throws Exception {
    writeBlob(blob, BlobCompression.NONE, state(1000));

    // Inside the JSON, where the value is still well-formed JSON: "nightly" becomes "nightlY".
    String json = Files.readString(blob, StandardCharsets.ISO_8859_1);
    flipBit(blob, json.indexOf("nightly") + 6);

    assertTrue(refusal(blob).getMessage().endsWith("header CRC mismatch"));
  }

  @Test
  void flippedBitInTheTrailerIsRefused() throws Exception {
    writeBlob(blob, BlobCompression.NONE, state(1000));
    long trailer = Files.size(blob) - BlobFormat.END_BYTES + Integer.BYTES;

    // The last byte of the state length: a plausible length, so only the CRC can tell.
    flipBit(blob, trailer + Long.BYTES - 1);

    assertTrue(refusal(blob).getMessage().contains("trailer CRC mismatch"));
  }

  @Test
  void chunkRewrittenWithAMatchingCrcIsRefusedByTheSha256() throws Exception {
    writeBlob(blob, BlobCompression.NONE, state(1000));
    int chunk0 = chunksOffset(blob);

    flipBit(blob, chunk0 + BlobFormat.CHUNK_FRAME_BYTES + 10);
    refreshChunkCrc(blob, chunk0);

    assertTrue(refusal(blob).getMessage().contains("SHA-256 mismatch"));
  }

  @Test
  void compressedChunkThatIsNotZstdIsRefusedEvenWithAMatchingCrc() throws Exception {
    writeBlob(blob, BlobCompression.ZSTD, state(1000));
    int chunk0 = chunksOffset(blob);

    // The first byte of the zstd frame magic.
    flipBit(blob, chunk0 + BlobFormat.CHUNK_FRAME_BYTES);
    refreshChunkCrc(blob, chunk0);

    assertTrue(
        refusal(blob).getMessage().contains("chunk 0 at byte " + chunk0 + " does not decompress"));
  }

  @Test
  void unknownFormatVersionIsRefusedOnOpen() throws Exception {
    writeBlob(blob, BlobCompression.NONE, state(1000));
    byte[] bytes = Files.readAllBytes(blob);
    ByteBuffer.wrap(bytes).putShort(BlobFormat.MAGIC.length, (short) 4);
    Files.write(blob, bytes);

    BlobIntegrityException refused =
        assertThrows(BlobIntegrityException.class, () -> BlobReader.open(blob).close());
    assertEquals(
        "blob "
            + blob
            + ": unsupported blob format version 4; this agent reads "
            + "versions 1 to 3",
        refused.getMessage());
  }

  @Test
  void storedBlobWithoutADigestIsCheckedByItsChunkCrcs() throws Exception {
    byte[] state = state(1000);
    try (BlobWriter writer =
        BlobWriter.create(blob, header(BlobCompression.NONE).withDigest(BlobDigest.NONE))) {
      writer.write(ByteBuffer.wrap(state));
      assertNull(writer.commit().sha256Hex());
    }
    try (BlobReader reader = BlobReader.open(blob)) {
      assertEquals(BlobDigest.NONE, reader.header().digest());
      assertNull(reader.verify().sha256Hex());
    }

    flipBit(blob, chunksOffset(blob) + BlobFormat.CHUNK_FRAME_BYTES + 10);
    assertTrue(refusal(blob).getMessage().contains("CRC mismatch in chunk 0"));
  }

  @Test
  void writerRefusesTheDigestOfVersionOneAndLeavesNoFile() throws Exception {
    assertThrows(
        IllegalArgumentException.class,
        () -> BlobWriter.create(blob, header(BlobCompression.NONE).withDigest(BlobDigest.SHA256)));
    try (var left = Files.list(dir)) {
      assertEquals(0, left.count());
    }
  }

  @Test
  void fileWithoutTheMagicIsRefusedOnOpen() throws Exception {
    Files.writeString(blob, "#!/bin/sh\necho this is not device state\n");

    BlobIntegrityException refused =
        assertThrows(BlobIntegrityException.class, () -> BlobReader.open(blob).close());
    assertTrue(refused.getMessage().contains("bad magic"));
  }

  @Test
  void bytesAfterTheTrailerAreRefused() throws Exception {
    writeBlob(blob, BlobCompression.ZSTD, state(1000));
    Files.write(blob, new byte[] {0, 0, 0, 0}, StandardOpenOption.APPEND);

    assertTrue(refusal(blob).getMessage().contains("trailing garbage: 4 bytes"));
  }

  @ParameterizedTest
  @EnumSource(BlobCompression.class)
  void chunkLengthBeyondTheBoundIsRefusedWithoutReadingIt(BlobCompression compression)
      throws Exception {
    writeBlob(blob, compression, state(1000));
    int chunk0 = chunksOffset(blob);

    putU32(blob, chunk0, 0xffff_fff0);

    assertTrue(
        refusal(blob)
            .getMessage()
            .contains("chunk 0 at byte " + chunk0 + " claims 4294967280 bytes, more than the"));
  }

  @Test
  void copyToStopsBeforeDeliveringADamagedChunk() throws Exception {
    writeBlob(blob, BlobCompression.NONE, state(3 * MIB));
    flipBit(blob, chunksOffset(blob) + 2 * FULL_CHUNK_FRAME + BlobFormat.CHUNK_FRAME_BYTES);
    List<Integer> delivered = new ArrayList<>();

    try (BlobReader reader = BlobReader.open(blob)) {
      BlobIntegrityException refused =
          assertThrows(
              BlobIntegrityException.class,
              () -> reader.copyTo(chunk -> delivered.add(chunk.remaining())));
      assertTrue(refused.getMessage().contains("CRC mismatch in chunk 2"));
    }
    // Why a loader verifies first: the two good chunks had already gone to the device.
    assertEquals(List.of(MIB, MIB), delivered);
  }

  @Test
  void blobDamagedAfterVerifyIsStillCaughtByCopyTo() throws Exception {
    writeBlob(blob, BlobCompression.NONE, state(1000));

    try (BlobReader reader = BlobReader.open(blob)) {
      reader.verify();
      try (FileChannel channel = FileChannel.open(blob, StandardOpenOption.WRITE)) {
        channel.write(
            ByteBuffer.wrap(new byte[] {0x55}),
            chunksOffset(blob) + BlobFormat.CHUNK_FRAME_BYTES + 1L);
      }
      assertThrows(BlobIntegrityException.class, () -> reader.copyTo(chunk -> {}));
    }
  }
}
