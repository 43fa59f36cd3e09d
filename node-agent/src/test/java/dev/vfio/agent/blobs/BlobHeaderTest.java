package dev.vfio.agent.blobs;

import static dev.vfio.agent.blobs.BlobFixtures.DEVICE;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

class BlobHeaderTest {
  @Test
  void unknownMigrationFlagIsRefused() {
    assertThrows(
        IllegalArgumentException.class,
        () ->
            new BlobHeader(
                BlobHeader.FORMAT_VERSION,
                DEVICE,
                List.of("STOP_COPY", "TELEPORT"),
                "6.8.0",
                "node-a",
                "default",
                "vm-0",
                "nightly",
                "2025-03-01T12:00:00Z",
                BlobCompression.NONE));
  }

  @Test
  void creationTimeThatIsNotRfc3339IsRefused() {
    assertThrows(
        IllegalArgumentException.class,
        () ->
            new BlobHeader(
                BlobHeader.FORMAT_VERSION,
                DEVICE,
                List.of("STOP_COPY"),
                "6.8.0",
                "node-a",
                "default",
                "vm-0",
                "nightly",
                "yesterday",
                BlobCompression.NONE));
  }
}
