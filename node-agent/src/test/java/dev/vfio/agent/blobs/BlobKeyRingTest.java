package dev.vfio.agent.blobs;

import static dev.vfio.agent.blobs.BlobFixtures.header;
import static dev.vfio.agent.blobs.BlobFixtures.state;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * After a rotation the Secret holds the new key as {@code blob.key} and the old one as {@code
 * previous-<id>.key}: new blobs are sealed with the new key, blobs of the old one still open, and a
 * blob of a key the ring lost is refused naming the key it needs.
 */
class BlobKeyRingTest {
  static final BlobKey OLD = BlobKey.of(bytes(1));
  static final BlobKey NEW = BlobKey.of(bytes(2));
  static final BlobKey LOST = BlobKey.of(bytes(3));
  static final BlobIdentity IDENTITY =
      new BlobIdentity("3f1c2a8e-0000-4000-8000-000000000002", "0000:65:00.0");
  static final byte[] STATE = state(3 * BlobFormat.MAX_CHUNK_BYTES + 17);

  @TempDir Path dir;

  @Test
  void theMountedSecretIsReadAsTheCurrentKeyAndItsPreviousOnes() throws IOException {
    Path secret = mountedSecret(NEW, OLD);

    BlobKeyRing ring = BlobKeySource.file(secret.resolve(BlobKeyRing.CURRENT)).ring();

    assertEquals(NEW.id(), ring.current().id());
    assertEquals(Set.of(NEW.id(), OLD.id()), ring.ids());
    assertEquals(OLD.id(), ring.key(OLD.id()).orElseThrow().id());
  }

  @Test
  void aBlobSealedBeforeTheRotationOpensWithThePreviousKey() throws IOException {
    Path blob = sealed(BlobKeyRing.of(OLD).current());
    Path secret = mountedSecret(NEW, OLD);

    BlobKeyRing ring = BlobKeySource.file(secret.resolve(BlobKeyRing.CURRENT)).ring();
    try (BlobReader reader = BlobReader.open(blob)) {
      reader.authenticate(ring, IDENTITY);
      assertEquals(STATE.length, reader.verify().stateBytes());
      assertArrayEquals(STATE, BlobSealTest.delivered(reader));
    }
  }

  @Test
  void aNewBlobIsSealedWithTheCurrentKeyOnly() throws IOException {
    Path secret = mountedSecret(NEW, OLD);
    BlobKeyRing ring = BlobKeySource.file(secret.resolve(BlobKeyRing.CURRENT)).ring();

    Path blob = sealed(ring.current());

    try (BlobReader reader = BlobReader.open(blob)) {
      assertEquals(NEW.id(), reader.header().seal().keyId());
    }
    BlobUnauthenticatedException refused = refusal(blob, BlobKeyRing.of(OLD));
    assertTrue(refused.getMessage().contains("blob key " + NEW.id()), refused::getMessage);
  }

  @Test
  void aBlobOfAKeyTheRingLacksIsRefusedNamingTheKeyItNeeds() throws IOException {
    Path blob = sealed(LOST);

    BlobUnauthenticatedException refused =
        refusal(blob, BlobKeySource.file(mountedSecret(NEW, OLD).resolve("blob.key")).ring());

    String message = refused.getMessage();
    assertTrue(message.contains("sealed with blob key " + LOST.id()), message);
    assertTrue(message.contains("current key " + NEW.id()), message);
    assertTrue(message.contains(BlobKeyRing.previousEntry(LOST.id())), message);
  }

  @Test
  void aPreviousKeyUnderAnotherKeysNameIsRefused() throws IOException {
    Path secret = mountedSecret(NEW);
    Files.write(secret.resolve(BlobKeyRing.previousEntry(LOST.id())), bytes(1));

    IOException refused =
        assertThrows(
            IOException.class,
            () -> BlobKeySource.file(secret.resolve(BlobKeyRing.CURRENT)).ring());
    assertTrue(refused.getMessage().contains("holds blob key " + OLD.id()), refused::getMessage);
  }

  /**
   * A directory as the kubelet projects a Secret: each entry a file, next to its own {@code ..data}
   * link and timestamped directory, which are not keys.
   */
  Path mountedSecret(BlobKey current, BlobKey... previous) throws IOException {
    Path secret = Files.createDirectories(dir.resolve("secret"));
    Files.write(secret.resolve(BlobKeyRing.CURRENT), bytesOf(current));
    for (BlobKey key : previous) {
      Files.write(secret.resolve(BlobKeyRing.previousEntry(key.id())), bytesOf(key));
    }
    Files.createDirectories(secret.resolve("..2026_12_08_02_40_00.000000001"));
    Files.write(secret.resolve("..data"), new byte[] {1});
    return secret;
  }

  Path sealed(BlobKey key) throws IOException {
    Path blob = dir.resolve(IDENTITY.device() + "-" + key.id() + ".vfs");
    try (BlobWriter writer =
        BlobWriter.create(
            blob, header(BlobCompression.NONE), key.newSeal(IDENTITY), BlobWriter::openOwnerOnly)) {
      writer.write(ByteBuffer.wrap(STATE));
      writer.commit();
    }
    return blob;
  }

  static BlobUnauthenticatedException refusal(Path blob, BlobKeyRing ring) {
    return assertThrows(
        BlobUnauthenticatedException.class,
        () -> {
          try (BlobReader reader = BlobReader.open(blob)) {
            reader.authenticate(ring, IDENTITY);
            reader.verify();
          }
        });
  }

  /** The bytes of one of the test's keys, which {@link BlobKey} never gives out. */
  static byte[] bytesOf(BlobKey key) {
    return key == OLD ? bytes(1) : key == NEW ? bytes(2) : bytes(3);
  }

  static byte[] bytes(int seed) {
    byte[] bytes = new byte[BlobKey.BYTES];
    Arrays.fill(bytes, (byte) seed);
    return bytes;
  }
}
