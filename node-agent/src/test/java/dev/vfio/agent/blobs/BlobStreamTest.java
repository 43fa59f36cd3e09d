package dev.vfio.agent.blobs;

import static dev.vfio.agent.blobs.BlobFixtures.header;
import static dev.vfio.agent.blobs.BlobFixtures.state;
import static dev.vfio.agent.blobs.BlobFixtures.writeBlob;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vfio.agent.vfio.DeviceIdentity;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class BlobStreamTest {
  private static final int MIB = 1024 * 1024;
  private static final int FULL_CHUNK_FRAME = BlobFormat.CHUNK_FRAME_BYTES + MIB;
  private static final String SOURCE = "stream from 10.0.0.7:40123";

  private final ExecutorService sender = Executors.newSingleThreadExecutor();

  @TempDir Path dir;

  @AfterEach
  void stopSender() throws InterruptedException {
    sender.shutdownNow();
    assertTrue(sender.awaitTermination(10, TimeUnit.SECONDS));
  }

  @ParameterizedTest
  @EnumSource(BlobCompression.class)
  void streamCarriesTheChunksOfAStoredBlobAndNoDigest(BlobCompression compression)
      throws Exception {
    byte[] state = state(2 * MIB + 4321);
    Path file = dir.resolve("0000:65:00.0.vfs");
    BlobSummary stored = writeBlob(file, compression, state);

    ByteArrayOutputStream out = new ByteArrayOutputStream();
    BlobSummary sent;
    try (BlobStreamWriter writer = BlobStreamWriter.start(out, header(compression))) {
      writer.write(ByteBuffer.wrap(state));
      sent = writer.commit();
    }

    byte[] fileBytes = Files.readAllBytes(file);
    byte[] streamBytes = out.toByteArray();
    // Chunk frames, chunks, end marker and state length are the same; only the header's digest
    // field and the trailer's digest differ.
    int digestAndCrc = 32 + Integer.BYTES;
    assertArrayEquals(
        Arrays.copyOfRange(fileBytes, chunksOffset(fileBytes), fileBytes.length - digestAndCrc),
        Arrays.copyOfRange(
            streamBytes, chunksOffset(streamBytes), streamBytes.length - digestAndCrc));
    assertArrayEquals(
        new byte[32],
        Arrays.copyOfRange(
            streamBytes, streamBytes.length - digestAndCrc, streamBytes.length - Integer.BYTES));
    assertNull(sent.path());
    assertNull(sent.sha256Hex());
    assertEquals(stored.stateBytes(), sent.stateBytes());
    assertEquals(streamBytes.length, sent.storedBytes());
  }

  @ParameterizedTest
  @EnumSource(BlobCompression.class)
  void stateRoundTripsThroughAPipeInChunksOfAtMostOneMebibyte(BlobCompression compression)
      throws Exception {
    GeneratedState state = new GeneratedState(24L * MIB + 17, 333_333, 0xfeed);
    PipedInputStream in = new PipedInputStream(256 * 1024);
    PipedOutputStream out = new PipedOutputStream(in);

    CompletableFuture<BlobSummary> sent =
        CompletableFuture.supplyAsync(
            () -> {
              try (out;
                  BlobStreamWriter writer = BlobStreamWriter.start(out, header(compression))) {
                while (state.hasMore()) {
                  writer.write(state.next());
                }
                return writer.commit();
              } catch (IOException e) {
                throw new IllegalStateException(e);
              }
            },
            sender);

    DigestingSink device = new DigestingSink();
    BlobStreamReader reader = BlobStreamReader.open(in, SOURCE);
    assertEquals(header(compression).withDigest(BlobDigest.NONE), reader.header());
    BlobSummary received = reader.copyTo(device);

    assertEquals(sent.get(30, TimeUnit.SECONDS), received);
    assertEquals(state.sha256Hex(), device.sha256Hex());
    assertEquals(24L * MIB + 17, device.bytes);
    assertEquals(25, device.chunks);
    assertEquals(MIB, device.largestChunk);
  }

  @Test
  void readerStopsAtTheTrailerAndLeavesWhatFollowsToTheCaller() throws Exception {
    byte[] blob = streamBlob(BlobCompression.ZSTD, state(3000));
    byte[] after = "the caller's next message".getBytes(StandardCharsets.US_ASCII);
    ByteArrayInputStream in = new ByteArrayInputStream(concat(blob, after));

    BlobStreamReader.open(in, SOURCE).copyTo(new DigestingSink());

    assertArrayEquals(after, in.readAllBytes());
  }

  @Test
  void emptyStateIsAValidStream() throws Exception {
    DigestingSink device = new DigestingSink();

    BlobSummary received =
        BlobStreamReader.open(
                new ByteArrayInputStream(streamBlob(BlobCompression.ZSTD, new byte[0])))
            .copyTo(device);

    assertEquals(0, received.stateBytes());
    assertEquals(0, device.chunks);
  }

  @Test
  void streamCutAtAnyStructuralOffsetIsRefusedAsTruncated() throws Exception {
    byte[] whole = streamBlob(BlobCompression.NONE, state(2 * MIB + 1000));
    int chunks = chunksOffset(whole);
    int end = whole.length;
    int[] offsets = {
      0,
      5,
      10,
      13,
      chunks - 1,
      chunks,
      chunks + 3,
      chunks + 8,
      chunks + 8 + MIB / 2,
      chunks + FULL_CHUNK_FRAME,
      chunks + 2 * FULL_CHUNK_FRAME + 500,
      end - BlobFormat.END_BYTES,
      end - BlobFormat.END_BYTES + Integer.BYTES,
      end - 20,
      end - 1
    };

    for (int offset : offsets) {
      BlobIntegrityException refused = refusal(Arrays.copyOf(whole, offset));
      assertEquals(SOURCE, refused.source());
      assertNull(refused.file());
      assertTrue(
          refused
              .getMessage()
              .startsWith("blob " + SOURCE + ": truncated at byte " + offset + " while reading "),
          offset + ": " + refused.getMessage());
    }
  }

  @ParameterizedTest
  @EnumSource(BlobCompression.class)
  void everyTruncationOfASmallStreamIsRefused(BlobCompression compression) throws Exception {
    byte[] whole = streamBlob(compression, state(300));

    for (int length = 0; length < whole.length; length++) {
      assertTrue(
          refusal(Arrays.copyOf(whole, length)).getMessage().contains("truncated"),
          "length " + length);
    }
  }

  @ParameterizedTest
  @EnumSource(BlobCompression.class)
  void everySingleFlippedBitOfASmallStreamIsRefused(BlobCompression compression) throws Exception {
    byte[] whole = streamBlob(compression, state(300));

    for (int offset = 0; offset < whole.length; offset++) {
      byte[] damaged = whole.clone();
      damaged[offset] ^= 0x20;
      refusal(damaged);
    }
  }

  @Test
  void damagedChunkIsRefusedBeforeDeliveryNamingTheChunk() throws Exception {
    byte[] blob = streamBlob(BlobCompression.NONE, state(3 * MIB));
    int chunk2 = chunksOffset(blob) + 2 * FULL_CHUNK_FRAME;
    blob[chunk2 + BlobFormat.CHUNK_FRAME_BYTES + 12345] ^= 0x20;
    List<Integer> delivered = new ArrayList<>();

    BlobStreamReader reader = BlobStreamReader.open(new ByteArrayInputStream(blob), SOURCE);
    BlobIntegrityException refused =
        assertThrows(
            BlobIntegrityException.class,
            () -> reader.copyTo(chunk -> delivered.add(chunk.remaining())));

    assertEquals(
        "blob " + SOURCE + ": CRC mismatch in chunk 2 at byte " + chunk2, refused.getMessage());
    assertEquals(List.of(MIB, MIB), delivered);
  }

  @Test
  void stateFilledIntoLentHeapBuffersCrossesTheStreamIntact() throws Exception {
    byte[] state = state(3 * MIB + 5);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (BlobStreamWriter writer = BlobStreamWriter.start(out, header(BlobCompression.NONE))) {
      for (int at = 0; at < state.length; ) {
        ByteBuffer lent = writer.lend();
        assertTrue(lent.hasArray(), "a stream's chunks are on the heap, for the socket to take");
        int n = Math.min(Math.min(lent.remaining(), 400_000), state.length - at);
        lent.put(state, at, n);
        writer.lentFilled(lent);
        at += n;
      }
      writer.commit();
    }

    ByteArrayOutputStream delivered = new ByteArrayOutputStream();
    BlobStreamReader.open(new ByteArrayInputStream(out.toByteArray()), SOURCE)
        .copyTo(
            chunk -> {
              byte[] bytes = new byte[chunk.remaining()];
              chunk.get(bytes);
              delivered.write(bytes, 0, bytes.length);
            });
    assertArrayEquals(state, delivered.toByteArray());
  }

  @Test
  void streamThatCarriesADigestHasItChecked() throws Exception {
    Path file = dir.resolve("0000:65:00.0.vfs");
    writeBlob(file, BlobCompression.NONE, state(1000));
    byte[] blob = Files.readAllBytes(file);
    rewriteFirstChunkWithAMatchingCrc(blob);

    assertTrue(refusal(blob).getMessage().contains("SHA-256 mismatch"));
  }

  @Test
  void streamWithoutADigestLeavesTamperingToTls() throws Exception {
    // The decision of docs/decisions/0004: the CRC catches damage, TLS catches tampering.
    byte[] blob = streamBlob(BlobCompression.NONE, state(1000));
    rewriteFirstChunkWithAMatchingCrc(blob);

    DigestingSink device = new DigestingSink();
    BlobStreamReader.open(new ByteArrayInputStream(blob), SOURCE).copyTo(device);
    assertEquals(1000, device.bytes);
  }

  @Test
  void streamWhoseHeaderNamesNoDigestButWhoseTrailerHoldsOneIsRefused() throws Exception {
    byte[] blob = streamBlob(BlobCompression.NONE, state(1000));
    int trailer = blob.length - 32 - Integer.BYTES;
    blob[trailer] = 1;
    CRC32C crc = new CRC32C();
    crc.update(blob, trailer - Long.BYTES, Long.BYTES + 32);
    ByteBuffer.wrap(blob).putInt(blob.length - Integer.BYTES, (int) crc.getValue());

    assertTrue(
        refusal(blob)
            .getMessage()
            .contains("the trailer holds a digest although the " + "header names none"));
  }

  @Test
  void compressedStreamWithAForeignChunkIsRefusedEvenWithAMatchingCrc() throws Exception {
    byte[] blob = streamBlob(BlobCompression.ZSTD, state(1000));
    int chunk0 = chunksOffset(blob);
    int length = ByteBuffer.wrap(blob).getInt(chunk0);
    blob[chunk0 + BlobFormat.CHUNK_FRAME_BYTES] ^= 0x20;
    CRC32C crc = new CRC32C();
    crc.update(blob, chunk0 + BlobFormat.CHUNK_FRAME_BYTES, length);
    ByteBuffer.wrap(blob).putInt(chunk0 + Integer.BYTES, (int) crc.getValue());

    assertTrue(
        refusal(blob).getMessage().contains("chunk 0 at byte " + chunk0 + " does not decompress"));
  }

  @Test
  void unknownFormatVersionIsRefusedOnOpen() throws Exception {
    byte[] blob = streamBlob(BlobCompression.NONE, state(1000));
    ByteBuffer.wrap(blob).putShort(BlobFormat.MAGIC.length, (short) 4);

    BlobIntegrityException refused =
        assertThrows(
            BlobIntegrityException.class,
            () -> BlobStreamReader.open(new ByteArrayInputStream(blob), SOURCE));
    assertEquals(
        "blob "
            + SOURCE
            + ": unsupported blob format version 4; this agent reads "
            + "versions 1 to 3",
        refused.getMessage());
  }

  @Test
  void writerClosedWithoutFinishingLeavesAStreamTheReaderRefuses() throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (BlobStreamWriter writer = BlobStreamWriter.start(out, header(BlobCompression.ZSTD))) {
      writer.write(ByteBuffer.wrap(state(3 * MIB)));
    }

    assertTrue(refusal(out.toByteArray()).getMessage().contains("truncated"));
  }

  @Test
  void streamWhoseConnectionBrokeRefusesEveryLaterStep() throws Exception {
    OutputStream breaking =
        new OutputStream() {
          private long written;

          @Override
          public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
          }

          @Override
          public void write(byte[] b, int off, int len) throws IOException {
            written += len;
            if (written > MIB) {
              throw new IOException("Broken pipe");
            }
          }
        };
    try (BlobStreamWriter writer = BlobStreamWriter.start(breaking, header(BlobCompression.NONE))) {
      // Chunks go out behind those in the background, so the failure needs a few more.
      IOException broken =
          assertThrows(
              IOException.class,
              () -> writer.write(ByteBuffer.wrap(state((BlobEncoder.IN_FLIGHT + 3) * MIB))));
      assertEquals("Broken pipe", broken.getMessage());

      assertThrows(IllegalStateException.class, () -> writer.write(ByteBuffer.allocate(1)));
      assertThrows(IllegalStateException.class, writer::lend);
      assertThrows(IllegalStateException.class, writer::commit);
    }
  }

  @Test
  void writingAfterCommitIsRefused() throws Exception {
    try (BlobStreamWriter writer =
        BlobStreamWriter.start(new ByteArrayOutputStream(), header(BlobCompression.NONE))) {
      writer.commit();

      assertThrows(IllegalStateException.class, () -> writer.write(ByteBuffer.allocate(1)));
      assertThrows(IllegalStateException.class, writer::commit);
    }
  }

  @Test
  void headerOfAnotherFormatVersionIsRefusedBeforeAByteIsSent() {
    BlobHeader current = header(BlobCompression.NONE);
    BlobHeader other =
        new BlobHeader(
            1,
            current.device(),
            current.migrationFlags(),
            current.kernelRelease(),
            current.node(),
            current.namespace(),
            current.pod(),
            current.snapshot(),
            current.createdAt(),
            current.compression());
    ByteArrayOutputStream out = new ByteArrayOutputStream();

    assertThrows(IllegalArgumentException.class, () -> BlobStreamWriter.start(out, other));
    assertEquals(0, out.size());
  }

  @Test
  void streamCanBeReadOnlyOnce() throws Exception {
    BlobStreamReader reader =
        BlobStreamReader.open(
            new ByteArrayInputStream(streamBlob(BlobCompression.NONE, state(10))));
    reader.copyTo(chunk -> {});

    assertThrows(IllegalStateException.class, () -> reader.copyTo(chunk -> {}));
  }

  @Test
  void streamIsRefusedForADeviceWithAnotherDriverOrIds() throws Exception {
    BlobStreamReader reader =
        BlobStreamReader.open(
            new ByteArrayInputStream(streamBlob(BlobCompression.NONE, state(10))), SOURCE);

    IncompatibleDeviceException refused =
        assertThrows(
            IncompatibleDeviceException.class,
            () ->
                reader.requireCompatibleWith(
                    new DeviceIdentity("0000:b3:00.0", "vfio-pci", "15b3", "101e", "7")));
    assertTrue(
        refused
            .getMessage()
            .startsWith("blob " + SOURCE + " holds state of a " + "mlx5_vfio_pci device 15b3:101e"),
        refused.getMessage());
  }

  private static byte[] streamBlob(BlobCompression compression, byte[] state) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (BlobStreamWriter writer = BlobStreamWriter.start(out, header(compression))) {
      writer.write(ByteBuffer.wrap(state));
      writer.commit();
    }
    return out.toByteArray();
  }

  /** Flips a bit in the first chunk of an uncompressed 1000-byte state and fixes its CRC. */
  private static void rewriteFirstChunkWithAMatchingCrc(byte[] blob) {
    int chunk0 = chunksOffset(blob);
    blob[chunk0 + BlobFormat.CHUNK_FRAME_BYTES + 10] ^= 0x20;
    CRC32C crc = new CRC32C();
    crc.update(blob, chunk0 + BlobFormat.CHUNK_FRAME_BYTES, 1000);
    ByteBuffer.wrap(blob).putInt(chunk0 + Integer.BYTES, (int) crc.getValue());
  }

  private static BlobIntegrityException refusal(byte[] blob) {
    return assertThrows(
        BlobIntegrityException.class,
        () -> {
          InputStream in = new ByteArrayInputStream(blob);
          BlobStreamReader.open(in, SOURCE).copyTo(chunk -> {});
        });
  }

  /** Where the first chunk frame starts: after magic, version, header length, header, CRC. */
  private static int chunksOffset(byte[] blob) {
    return BlobFormat.PREFIX_BYTES
        + ByteBuffer.wrap(blob).getInt(BlobFormat.PREFIX_BYTES - Integer.BYTES)
        + Integer.BYTES;
  }

  private static byte[] concat(byte[] first, byte[] second) {
    byte[] both = Arrays.copyOf(first, first.length + second.length);
    System.arraycopy(second, 0, both, first.length, second.length);
    return both;
  }
}
