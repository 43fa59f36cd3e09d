package dev.vfio.agent.pods;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.function.Predicate;
import java.util.regex.Pattern;

/**
 * Finds a pod's cgroup v2 directory under the kubelet's hierarchy, for both cgroup drivers:
 *
 * <pre>
 * systemd:  kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod&lt;uid, - as _&gt;.slice/cri-containerd-&lt;id&gt;.scope
 *           kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod&lt;uid_&gt;.slice/…
 *           kubepods.slice/kubepods-pod&lt;uid_&gt;.slice/…            (Guaranteed: no QoS slice)
 * cgroupfs: kubepods/burstable/pod&lt;uid&gt;/&lt;container id&gt;, kubepods/besteffort/…, kubepods/pod&lt;uid&gt;/…
 * </pre>
 *
 * The pod directory is searched for rather than computed, a few levels deep and only through
 * directories that can hold pods, so that a kubelet with another {@code --cgroup-root} (kind nodes
 * use {@code kubelet.slice/kubelet-kubepods.slice/…}) is found too. Reads below a configurable
 * root; in the DaemonSet the host's {@code /sys/fs/cgroup} is mounted there.
 */
public final class PodCgroups {
  /**
   * Deep enough for {@code
   * kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-burstable.slice/pod}.
   */
  private static final int MAX_LEVEL = 5;

  private static final Pattern ANY_POD = Pattern.compile("(^|-)pod[0-9a-fA-F_-]+(\\.slice)?$");
  private final Path root;

  /** The host's cgroup v2 hierarchy at {@code /sys/fs/cgroup}. */
  public PodCgroups() {
    this(Path.of("/sys/fs/cgroup"));
  }

  public PodCgroups(Path cgroupRoot) {
    this.root = cgroupRoot;
  }

  public Path root() {
    return root;
  }

  /**
   * The pod's cgroup directories — one on a sane node — or none when the pod has no cgroup on this
   * node (not scheduled here, not started yet, or ended).
   *
   * @throws IOException when the root is not a cgroup v2 hierarchy
   */
  public List<Path> podDirectories(String podUid) throws IOException {
    if (!Files.exists(root.resolve("cgroup.controllers"))) {
      throw new NoSuchFileException(
          root.toString(),
          null,
          "not a cgroup v2 hierarchy (no "
              + "cgroup.controllers): the agent needs the host's unified cgroup v2 hierarchy mounted there");
    }
    String cgroupfsName = "pod" + podUid;
    String systemdSuffix = "-pod" + podUid.replace('-', '_') + ".slice";
    List<Path> found = new ArrayList<>();
    search(root, 1, name -> name.equals(cgroupfsName) || name.endsWith(systemdSuffix), found);
    return found;
  }

  /**
   * Every process in {@code directory} and its descendants (containers, and sub-cgroups that a
   * container made itself), ascending. Cgroups removed during the walk are skipped: their processes
   * have exited.
   */
  public SortedSet<Integer> processes(Path directory) throws IOException {
    SortedSet<Integer> pids = new TreeSet<>();
    collectProcesses(directory, pids);
    return pids;
  }

  private void collectProcesses(Path directory, SortedSet<Integer> pids) throws IOException {
    try {
      for (String line : Files.readAllLines(directory.resolve("cgroup.procs"))) {
        if (!line.isBlank()) {
          pids.add(Integer.parseInt(line.trim()));
        }
      }
      for (Path child : subdirectories(directory)) {
        collectProcesses(child, pids);
      }
    } catch (NoSuchFileException e) {
      // The container exited between listing its parent and reading it.
    }
  }

  private void search(Path directory, int level, Predicate<String> pod, List<Path> found)
      throws IOException {
    for (Path child : subdirectories(directory)) {
      String name = child.getFileName().toString();
      if (pod.test(name)) {
        found.add(child);
      } else if (level < MAX_LEVEL && mayHoldPods(name, level)) {
        search(child, level + 1, pod, found);
      }
    }
  }

  /**
   * At the top any directory may be a kubelet's cgroup root; below it only the kubepods and QoS
   * directories lead to pods. Other pods' directories are never entered.
   */
  private static boolean mayHoldPods(String name, int level) {
    if (ANY_POD.matcher(name).find()) {
      return false;
    }
    return level == 1
        || name.contains("kubepods")
        || name.equals("burstable")
        || name.equals("besteffort");
  }

  private static List<Path> subdirectories(Path directory) throws IOException {
    List<Path> children = new ArrayList<>();
    try (DirectoryStream<Path> stream = Files.newDirectoryStream(directory, Files::isDirectory)) {
      stream.forEach(children::add);
    } catch (NoSuchFileException e) {
      return List.of();
    }
    children.sort((a, b) -> a.getFileName().toString().compareTo(b.getFileName().toString()));
    return children;
  }
}
