package dev.vfio.agent.blobs;

import static dev.vfio.agent.blobs.BlobFixtures.header;
import static dev.vfio.agent.blobs.BlobFixtures.state;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What AES-256-GCM adds to a seal: the state is encrypted at rest, it is the seal of new blobs, and
 * the blobs an earlier agent sealed with HMAC-SHA-256 still load.
 */
class BlobEncryptionTest {
  static final BlobKey KEY = BlobSealTest.KEY;
  static final BlobIdentity IDENTITY = BlobSealTest.IDENTITY;

  @TempDir Path dir;

  @Test
  void aNewSealedBlobIsSealedWithAesGcm() throws IOException {
    Path blob = write(dir.resolve("a.vfs"), KEY.newSeal(IDENTITY));

    try (BlobReader reader = BlobReader.open(blob)) {
      assertEquals(BlobAuthentication.AES_256_GCM, reader.header().seal().authentication());
    }
  }

  @Test
  void theStateOfAGcmBlobIsNotOnDiskInTheClear() throws IOException {
    byte[] stored = Files.readAllBytes(write(dir.resolve("a.vfs"), KEY.newSeal(IDENTITY)));
    byte[] hmacStored =
        Files.readAllBytes(
            write(dir.resolve("b.vfs"), KEY.newSeal(IDENTITY, BlobAuthentication.HMAC_SHA256)));

    // A stretch of state from the middle of each chunk, as someone reading the volume would look.
    for (int chunk = 0; chunk < 3; chunk++) {
      byte[] probe = Arrays.copyOfRange(STATE, chunk * CHUNK + 5000, chunk * CHUNK + 5064);
      assertTrue(contains(hmacStored, probe), "an HMAC blob stores the state in the clear");
      assertFalse(contains(stored, probe), "chunk " + chunk + " is stored in the clear");
    }
  }

  @Test
  void aGcmBlobWhoseHeaderClaimsAnHmacSealIsRefused() throws IOException {
    Path blob = write(dir.resolve("a.vfs"), KEY.newSeal(IDENTITY));
    BlobSealTest.rewriteHeader(blob, "AES_256_GCM", "HMAC_SHA256");

    assertThrows(
        BlobUnauthenticatedException.class,
        () -> {
          try (BlobReader reader = BlobReader.open(blob)) {
            assertEquals(BlobAuthentication.HMAC_SHA256, reader.header().seal().authentication());
            reader.authenticate(KEY, IDENTITY);
            reader.verify();
          }
        });
  }

  @Test
  void theGcmKeyOfABlobIsNotItsHmacKey() {
    byte[] salt = BlobSealTest.bytes(BlobSeal.SALT_BYTES, 3);

    assertFalse(
        Arrays.equals(
            KEY.blobKey(BlobAuthentication.AES_256_GCM, IDENTITY, salt),
            KEY.blobKey(BlobAuthentication.HMAC_SHA256, IDENTITY, salt)));
  }

  /**
   * hmac-sealed-v3.vfs was written by the agent before AES-256-GCM, with the key and identity of
   * {@link BlobSealTest}, zstd and the SHA-256 digest, from {@code BlobFixtures.state(1000000)}.
   */
  @Test
  void aBlobAnEarlierAgentSealedWithHmacStillLoads() throws IOException, URISyntaxException {
    Path blob = Path.of(getClass().getResource("hmac-sealed-v3.vfs").toURI());

    try (BlobReader reader = BlobReader.open(blob)) {
      assertEquals(BlobAuthentication.HMAC_SHA256, reader.header().seal().authentication());
      reader.authenticate(KEY, IDENTITY);
      assertEquals(1_000_000, reader.verify().stateBytes());
      assertArrayEquals(state(1_000_000), BlobSealTest.delivered(reader));
    }
  }

  private static final int CHUNK = BlobFormat.MAX_CHUNK_BYTES;
  private static final byte[] STATE = BlobSealTest.STATE;

  private static Path write(Path target, BlobKey.Sealing sealing) throws IOException {
    try (BlobWriter writer =
        BlobWriter.create(
            target, header(BlobCompression.NONE), sealing, BlobWriter::openOwnerOnly)) {
      writer.write(ByteBuffer.wrap(STATE));
      writer.commit();
    }
    return target;
  }

  private static boolean contains(byte[] haystack, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= haystack.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (haystack[i + j] != needle[j]) {
          continue outer;
        }
      }
      return true;
    }
    return false;
  }
}
