package dev.vfio.agent.blobs;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileStore;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * The storage claims mounted into this agent and where blobs live on them: {@code <claim
 * root>/<namespace>/<snapshot>/<device>.vfs}. Every path part is a validated name and every path
 * stays inside its claim root, because the names come from user-written objects and the agent runs
 * privileged.
 */
public final class BlobStore {
  private static final String BLOB_SUFFIX = ".vfs";

  /** Namespaces are DNS-1123 labels in Kubernetes, a stricter rule than object names. */
  private static final Pattern DNS_1123_LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?");

  private static final Pattern DNS_1123_SUBDOMAIN =
      Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");

  /** domain:bus:device.function, lowercase as sysfs spells it. */
  private static final Pattern PCI_ADDRESS =
      Pattern.compile("[0-9a-f]{4}:[0-9a-f]{2}:[01][0-9a-f]\\.[0-7]");

  /** An mdev is named by its UUID, lowercase as sysfs spells it. */
  private static final Pattern MDEV_UUID =
      Pattern.compile("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");

  private final SortedMap<String, Path> roots;
  private final BlobWriter.TemporaryFileOpener opener;

  /**
   * @param roots storage claim name to the directory where the claim is mounted
   * @throws IllegalArgumentException if a claim name is not a valid claim name
   */
  public BlobStore(Map<String, Path> roots) {
    this(roots, BlobWriter::openOwnerOnly);
  }

  /** A store whose blob files are opened by {@code opener}: a test's volume that fills up. */
  BlobStore(Map<String, Path> roots, BlobWriter.TemporaryFileOpener opener) {
    SortedMap<String, Path> checked = new TreeMap<>();
    roots.forEach(
        (claim, root) -> {
          requireSubdomain("storage claim", claim);
          checked.put(claim, root.toAbsolutePath().normalize());
        });
    this.roots = Collections.unmodifiableSortedMap(checked);
    this.opener = opener;
  }

  /** The storage claim names, sorted. */
  public Set<String> claims() {
    return roots.keySet();
  }

  /**
   * Where the blob of {@code device} in {@code snapshot} lives. The directories need not exist.
   *
   * @param device a lowercase PCI address such as {@code 0000:65:00.0} or an mdev UUID
   * @throws UnknownStorageClaimException if {@code claim} is not mounted into this agent
   * @throws IllegalArgumentException naming the part that is not a valid name, or if the path would
   *     leave the claim root
   */
  public Path blobPath(String claim, String namespace, String snapshot, String device) {
    Path directory = snapshotDirectory(claim, namespace, snapshot);
    if (device == null
        || !(PCI_ADDRESS.matcher(device).matches() || MDEV_UUID.matcher(device).matches())) {
      throw new IllegalArgumentException(
          "device "
              + quote(device)
              + " is neither a lowercase PCI address like 0000:65:00.0 nor an mdev UUID");
    }
    return contained(claim, directory.resolve(device + BLOB_SUFFIX));
  }

  /**
   * Starts the blob of {@code device} in {@code snapshot} ({@link #blobPath}), which its {@link
   * BlobWriter#commit} publishes.
   *
   * @throws UnknownStorageClaimException if {@code claim} is not mounted into this agent
   * @throws IllegalArgumentException as {@link #blobPath} and {@link BlobWriter#create} do
   */
  public BlobWriter createBlob(
      String claim, String namespace, String snapshot, String device, BlobHeader header)
      throws IOException {
    return BlobWriter.create(blobPath(claim, namespace, snapshot, device), header, null, opener);
  }

  /**
   * {@link #createBlob(String, String, String, String, BlobHeader)} sealed with {@code key} as the
   * blob of {@code device} in the snapshot (or migration) whose UID is {@code setUid}.
   */
  public BlobWriter createSealedBlob(
      String claim,
      String namespace,
      String snapshot,
      String device,
      BlobHeader header,
      BlobKey key,
      String setUid)
      throws IOException {
    return BlobWriter.create(
        blobPath(claim, namespace, snapshot, device),
        header,
        key.newSeal(new BlobIdentity(setUid, device)),
        opener);
  }

  /**
   * Deletes the snapshot's directory with its blobs and any temporary files left by writers.
   * Deleting a directory that does not exist does nothing.
   */
  public void deleteDirectory(String claim, String namespace, String snapshot) throws IOException {
    Path directory = snapshotDirectory(claim, namespace, snapshot);
    if (!Files.exists(directory, LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    // Links are deleted, never followed, so nothing outside the directory is touched.
    Files.walkFileTree(
        directory,
        new SimpleFileVisitor<>() {
          @Override
          public FileVisitResult visitFile(Path file, BasicFileAttributes attributes)
              throws IOException {
            Files.deleteIfExists(file);
            return FileVisitResult.CONTINUE;
          }

          @Override
          public FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
            if (e instanceof NoSuchFileException) {
              return FileVisitResult.CONTINUE;
            }
            throw e;
          }

          @Override
          public FileVisitResult postVisitDirectory(Path dir, IOException e) throws IOException {
            if (e != null && !(e instanceof NoSuchFileException)) {
              throw e;
            }
            Files.deleteIfExists(dir);
            return FileVisitResult.CONTINUE;
          }
        });
  }

  /**
   * Deletes the temporary files that writers left in the snapshot's directory, keeping committed
   * blobs. Scoped to one snapshot because agents on other nodes may be writing other snapshots on
   * the same shared volume right now.
   *
   * @return how many files were deleted
   */
  public int deleteTemporaryFiles(String claim, String namespace, String snapshot)
      throws IOException {
    Path directory = snapshotDirectory(claim, namespace, snapshot);
    if (!Files.isDirectory(directory, LinkOption.NOFOLLOW_LINKS)) {
      return 0;
    }
    int deleted = 0;
    try (DirectoryStream<Path> files =
        Files.newDirectoryStream(
            directory, file -> BlobWriter.isTemporaryName(file.getFileName().toString()))) {
      for (Path file : files) {
        if (Files.deleteIfExists(file)) {
          deleted++;
        }
      }
    }
    return deleted;
  }

  /** Free and total bytes of each claim's volume, in claim name order. */
  public List<ClaimSpace> space() throws IOException {
    List<ClaimSpace> space = new ArrayList<>();
    for (Map.Entry<String, Path> claim : roots.entrySet()) {
      FileStore store = Files.getFileStore(claim.getValue());
      space.add(
          new ClaimSpace(
              claim.getKey(), claim.getValue(), store.getUsableSpace(), store.getTotalSpace()));
    }
    return List.copyOf(space);
  }

  private Path snapshotDirectory(String claim, String namespace, String snapshot) {
    Path root = root(claim);
    if (namespace == null
        || namespace.length() > 63
        || !DNS_1123_LABEL.matcher(namespace).matches()) {
      throw new IllegalArgumentException(
          "namespace "
              + quote(namespace)
              + " is not a valid "
              + "namespace name: lowercase letters, digits and '-', at most 63 characters");
    }
    requireSubdomain("snapshot", snapshot);
    return contained(claim, root.resolve(namespace).resolve(snapshot));
  }

  private Path root(String claim) {
    Path root = roots.get(claim);
    if (root == null) {
      throw new UnknownStorageClaimException(claim, roots.keySet());
    }
    return root;
  }

  /**
   * Refuses a path that leaves the claim root, lexically or through a symbolic link that someone
   * with write access to the shared volume planted on an existing part of it.
   */
  private Path contained(String claim, Path path) {
    Path root = root(claim);
    Path normalized = path.normalize();
    if (!normalized.startsWith(root) || normalized.equals(root)) {
      throw new IllegalArgumentException(path + " is outside storage claim " + claim);
    }
    Path existing = normalized;
    while (!existing.equals(root) && !Files.exists(existing)) {
      existing = existing.getParent();
    }
    if (!existing.equals(root)) {
      try {
        if (!existing.toRealPath().startsWith(root.toRealPath())) {
          throw new IllegalArgumentException(
              existing + " leads outside storage claim " + claim + " through a symbolic link");
        }
      } catch (IOException e) {
        throw new UncheckedIOException("cannot resolve " + existing, e);
      }
    }
    return normalized;
  }

  private static void requireSubdomain(String part, String name) {
    if (name == null || name.length() > 253 || !DNS_1123_SUBDOMAIN.matcher(name).matches()) {
      throw new IllegalArgumentException(
          part
              + " "
              + quote(name)
              + " is not a valid "
              + part
              + " name: lowercase letters, digits, '-' and '.', at most 253 characters");
    }
  }

  private static String quote(String name) {
    return name == null ? "null" : "\"" + name + "\"";
  }
}
