package dev.vfio.agent.journal;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * Where journal replay sets aside the entries it could not read or undo: a directory below the
 * journal, so on the same disk (a rename, never a copy) and as durable as the journal itself.
 * Nothing here is ever deleted by the agent: an entry is evidence of devices or a pod that may
 * still be stopped, and only an admin who has checked them removes it. Next to each entry, {@code
 * <entry>.reason} says why it is here.
 */
public final class JournalQuarantine {
  static final String DIRECTORY = "quarantine";
  private static final String REASON = ".reason";
  private final Path directory;

  JournalQuarantine(Path journalDirectory) {
    this.directory = journalDirectory.resolve(DIRECTORY);
  }

  /** An entry set aside: its file name here, why, and when. */
  public record SetAside(String file, String reason, Instant time) {}

  /**
   * Moves {@code entry} here, under a name no earlier entry has, and writes why; returns the new
   * name.
   */
  String setAside(Path entry, String reason) throws IOException {
    Files.createDirectories(directory);
    String name = entry.getFileName().toString();
    Path target = directory.resolve(name);
    for (int n = 1; Files.exists(target) || Files.exists(reasonOf(target)); n++) {
      target = directory.resolve(name + "." + n);
    }
    Files.move(entry, target, StandardCopyOption.ATOMIC_MOVE);
    Files.writeString(reasonOf(target), reason + "\n");
    try (FileChannel channel = FileChannel.open(reasonOf(target), StandardOpenOption.WRITE)) {
      channel.force(true);
    }
    sync(directory);
    sync(entry.getParent());
    return target.getFileName().toString();
  }

  /** Every entry set aside and not yet removed by an admin, oldest first. */
  public List<SetAside> list() throws IOException {
    if (!Files.isDirectory(directory)) {
      return List.of();
    }
    List<SetAside> entries = new ArrayList<>();
    try (Stream<Path> files = Files.list(directory)) {
      for (Path file : files.filter(f -> !f.getFileName().toString().endsWith(REASON)).toList()) {
        Path reason = reasonOf(file);
        try {
          // A crash between the move and the reason leaves the entry without one.
          boolean explained = Files.exists(reason);
          entries.add(
              new SetAside(
                  file.getFileName().toString(),
                  explained
                      ? Files.readString(reason).strip()
                      : "set aside without a reason (the agent stopped meanwhile)",
                  Files.getLastModifiedTime(explained ? reason : file).toInstant()));
        } catch (NoSuchFileException e) {
          // Removed by an admin while this listed it.
        }
      }
    }
    entries.sort(Comparator.comparing(SetAside::time).thenComparing(SetAside::file));
    return entries;
  }

  private static Path reasonOf(Path entry) {
    return entry.resolveSibling(entry.getFileName() + REASON);
  }

  private static void sync(Path directory) throws IOException {
    try (FileChannel channel = FileChannel.open(directory, StandardOpenOption.READ)) {
      channel.force(true);
    }
  }
}
