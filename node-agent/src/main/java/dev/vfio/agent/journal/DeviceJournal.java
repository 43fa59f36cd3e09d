package dev.vfio.agent.journal;

import com.fasterxml.jackson.databind.DeserializationFeature;
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
  private static final String TASK_UID = "[A-Za-z0-9-]+";
  private final Path directory;
  private final JournalQuarantine quarantine;
  // An entry a newer agent wrote is still replayed for what this version knows of it.
  private final ObjectMapper json =
      new ObjectMapper().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

  public DeviceJournal(Path directory) throws IOException {
    this.directory = Files.createDirectories(directory);
    this.quarantine = new JournalQuarantine(directory);
  }

  /** Writes or replaces the entry of its task, durably. */
  public void record(JournalEntry entry) throws IOException {
    Path target = file(entry.taskUid());
    Path temporary = directory.resolve("." + entry.taskUid() + ".tmp");
    try (FileChannel channel =
        FileChannel.open(
            temporary,
            StandardOpenOption.CREATE,
            StandardOpenOption.TRUNCATE_EXISTING,
            StandardOpenOption.WRITE)) {
      channel.write(ByteBuffer.wrap(json.writeValueAsBytes(entry)));
      channel.force(true);
    }
    Files.move(
        temporary, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    syncDirectory();
  }

  public void remove(String taskUid) throws IOException {
    Files.deleteIfExists(file(taskUid));
    syncDirectory();
  }

  /** One file of the journal: the entry it holds, or why it holds none that replay could use. */
  public sealed interface Stored permits Readable, Unreadable {
    String fileName();

    /** The task the file is named after, or null when the name says none. */
    default String taskUid() {
      String stem = fileName().substring(0, fileName().length() - SUFFIX.length());
      return stem.matches(TASK_UID) ? stem : null;
    }
  }

  public record Readable(String fileName, JournalEntry entry) implements Stored {}

  public record Unreadable(String fileName, String problem) implements Stored {}

  /** Entries left by tasks that did not finish, readable or not, oldest first by file name. */
  public List<Stored> stored() throws IOException {
    List<Stored> stored = new ArrayList<>();
    try (Stream<Path> files = Files.list(directory)) {
      for (Path file :
          files.filter(f -> f.getFileName().toString().endsWith(SUFFIX)).sorted().toList()) {
        stored.add(read(file));
      }
    }
    return stored;
  }

  /** The readable entries of {@link #stored}. */
  public List<JournalEntry> pending() throws IOException {
    return stored().stream()
        .filter(Readable.class::isInstance)
        .map(s -> ((Readable) s).entry())
        .toList();
  }

  /**
   * Moves the file out of the journal into its {@link #quarantine()}, with the reason; the next
   * start does not replay it again. Returns its name there.
   */
  public String setAside(String fileName, String reason) throws IOException {
    return quarantine.setAside(directory.resolve(fileName), reason);
  }

  public JournalQuarantine quarantine() {
    return quarantine;
  }

  /**
   * A torn write cannot happen (record renames a complete file), but a disk error or a hand edit
   * can.
   */
  private Stored read(Path file) {
    String name = file.getFileName().toString();
    JournalEntry entry;
    try {
      entry = json.readValue(file.toFile(), JournalEntry.class);
    } catch (IOException e) {
      return new Unreadable(
          name, "unreadable: " + String.valueOf(e.getMessage()).lines().findFirst().orElse(""));
    }
    String missing =
        entry == null
            ? "everything"
            : entry.taskUid() == null || !(entry.taskUid() + SUFFIX).equals(name)
                ? "the taskUid its file is named after"
                : entry.podNamespace() == null || entry.podName() == null || entry.podUid() == null
                    ? "its pod"
                    : entry.devices() == null || entry.devices().contains(null)
                        ? "its devices"
                        : null;
    return missing == null
        ? new Readable(name, entry)
        : new Unreadable(name, "incomplete: it lacks " + missing);
  }

  private Path file(String taskUid) {
    if (!taskUid.matches(TASK_UID)) {
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
