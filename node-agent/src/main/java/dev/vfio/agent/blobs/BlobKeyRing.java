package dev.vfio.agent.blobs;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The blob keys an agent holds (docs/decisions/0012-blob-key-ring.md): the current one seals every
 * new blob; the previous ones, kept after a rotation, only open blobs whose header names them.
 *
 * <p>On disk it is the mounted Secret's directory: {@code blob.key} is the current key, and each
 * {@code previous-<id>.key} a previous one, named by its {@link BlobKey#id}.
 */
public final class BlobKeyRing {
  /** The Secret entry, and file, of the current key. */
  public static final String CURRENT = "blob.key";

  private static final Pattern PREVIOUS = Pattern.compile("previous-([0-9a-f]{16})\\.key");

  private final BlobKey current;
  private final Map<String, BlobKey> byId;

  private BlobKeyRing(BlobKey current, Collection<BlobKey> previous) {
    this.current = current;
    Map<String, BlobKey> keys = new LinkedHashMap<>();
    keys.put(current.id(), current);
    previous.forEach(key -> keys.putIfAbsent(key.id(), key));
    this.byId = Map.copyOf(keys);
  }

  /** A ring of {@code current} alone. */
  public static BlobKeyRing of(BlobKey current) {
    return new BlobKeyRing(current, List.of());
  }

  /** A ring whose {@code current} key seals and whose {@code previous} keys only open. */
  public static BlobKeyRing of(BlobKey current, Collection<BlobKey> previous) {
    return new BlobKeyRing(current, previous);
  }

  /** The Secret entry, and file name, of a previous key. */
  public static String previousEntry(String id) {
    return "previous-" + id + ".key";
  }

  /**
   * The ring in {@code directory}: {@link #CURRENT} and every {@code previous-<id>.key}. Other
   * entries (the kubelet's {@code ..data} links) are ignored.
   *
   * @throws IOException if the current key is missing or any key file is not a key, or a previous
   *     key's file name is not its id (an entry added by hand under a wrong name)
   */
  public static BlobKeyRing fromDirectory(Path directory) throws IOException {
    BlobKey current = BlobKey.fromFile(directory.resolve(CURRENT));
    List<BlobKey> previous = new ArrayList<>();
    try (Stream<Path> entries = Files.list(directory)) {
      for (Path entry : entries.sorted().toList()) {
        Matcher name = PREVIOUS.matcher(entry.getFileName().toString());
        if (!name.matches()) {
          continue;
        }
        BlobKey key = BlobKey.fromFile(entry);
        if (!key.id().equals(name.group(1))) {
          throw new IOException(
              entry + " holds blob key " + key.id() + ", not the key its name says");
        }
        previous.add(key);
      }
    }
    return new BlobKeyRing(current, previous);
  }

  /** The key that seals new blobs. */
  public BlobKey current() {
    return current;
  }

  /** The key named {@code id}, current or previous, if the ring holds it. */
  public Optional<BlobKey> key(String id) {
    return Optional.ofNullable(byId.get(id));
  }

  /** The ids of every key of the ring. */
  public Set<String> ids() {
    return byId.keySet();
  }

  /** Names the keys, never their bytes. */
  @Override
  public String toString() {
    return "BlobKeyRing[current " + current.id() + ", " + byId.size() + " keys]";
  }
}
