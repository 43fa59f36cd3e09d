package dev.vfio.agent.journal;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * A directory on the node's disk with one file per task that has touched devices. It is written
 * (and fsynced) before the first device leaves RUNNING, so that an agent killed at any moment
 * finds, when it starts again, every device and pod it must return to running.
 */
public final class DeviceJournal {
  private static final String SUFFIX = ".json";
  private final Path directory;
  private final ObjectMapper json = new ObjectMapper();

  public DeviceJournal(Path directory) throws IOException {
    this.directory = Files.createDirectories(directory);
  }

  /** Writes or replaces the entry of its task, durably. */
  public void record(JournalEntry entry) throws IOException {
    Path target = file(entry.taskUid());
    Path temporary = directory.resolve("." + entry.taskUid() + ".tmp");
    try (FileChannel channel = FileChannel.open(temporary, StandardOpenOption.CREATE,
        StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
      channel.write(ByteBuffer.wrap(json.writeValueAsBytes(entry)));
      channel.force(true);
    }
    Files.move(temporary, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    syncDirectory();
  }

  public void remove(String taskUid) throws IOException {
    Files.deleteIfExists(file(taskUid));
    syncDirectory();
  }

  /** Entries left by tasks that did not finish, oldest first by file name. */
  public List<JournalEntry> pending() throws IOException {
    List<JournalEntry> entries = new ArrayList<>();
    try (Stream<Path> files = Files.list(directory)) {
      for (Path file : files.filter(f -> f.getFileName().toString().endsWith(SUFFIX)).sorted().toList()) {
        entries.add(json.readValue(file.toFile(), JournalEntry.class));
      }
    }
    return entries;
  }

  private Path file(String taskUid) {
    if (!taskUid.matches("[A-Za-z0-9-]+")) {
      throw new IllegalArgumentException("task uid '" + taskUid + "' cannot name a journal file");
    }
    return directory.resolve(taskUid + SUFFIX);
  }

  private void syncDirectory() throws IOException {
    try (FileChannel dir = FileChannel.open(directory, StandardOpenOption.READ)) {
      dir.force(true);
    }
  }
}
