package dev.vfio.agent.sim;

import dev.vfio.agent.vfio.MigrationState;
import java.io.IOException;
import java.io.Reader;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Optional;
import java.util.Properties;

/**
 * Where a simulated device keeps what real hardware keeps across agent restarts: its migration
 * state and its content. Written on every change by write-to-temporary, fsync and rename, so a
 * killed agent leaves either the old or the new record, never a torn one.
 */
final class DeviceStateFile {
  /** What survives a restart; an open session does not. */
  record Record(MigrationState state, SimulatedState content) {}

  private final Path file;

  DeviceStateFile(Path directory, String address) throws IOException {
    Files.createDirectories(directory);
    // PCI addresses contain ':', which some filesystems and tools handle badly in names.
    this.file = directory.resolve(address.replaceAll("[^A-Za-z0-9._-]", "_") + ".properties");
  }

  Optional<Record> load() throws IOException {
    if (!Files.exists(file)) {
      return Optional.empty();
    }
    Properties properties = new Properties();
    try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      properties.load(reader);
    }
    try {
      return Optional.of(
          new Record(
              MigrationState.valueOf(properties.getProperty("state")),
              new SimulatedState(
                  properties.getProperty("origin"),
                  Long.parseLong(properties.getProperty("epoch")),
                  Long.parseLong(properties.getProperty("imageBytes")))));
    } catch (RuntimeException e) {
      throw new IOException(file + ": not a simulated device record: " + e.getMessage(), e);
    }
  }

  void store(Record record) throws IOException {
    Properties properties = new Properties();
    properties.setProperty("state", record.state().name());
    properties.setProperty("origin", record.content().origin());
    properties.setProperty("epoch", Long.toString(record.content().epoch()));
    properties.setProperty("imageBytes", Long.toString(record.content().imageBytes()));
    StringWriter text = new StringWriter();
    properties.store(text, "simulated VFIO device");
    Path temporary = Files.createTempFile(file.getParent(), file.getFileName().toString(), ".tmp");
    try {
      try (FileChannel channel = FileChannel.open(temporary, StandardOpenOption.WRITE)) {
        channel.write(ByteBuffer.wrap(text.toString().getBytes(StandardCharsets.UTF_8)));
        channel.force(true);
      }
      Files.move(
          temporary, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } finally {
      Files.deleteIfExists(temporary);
    }
  }
}
