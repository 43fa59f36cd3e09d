package dev.vfio.agent.pods;

import dev.vfio.agent.inventory.Sysfs;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedSet;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds the VFIO devices a pod's processes hold on a real node: pod UID → cgroup v2 directory
 * ({@link PodCgroups}) → every process of every container → their open VFIO device fds → the
 * device's PCI address (or mdev UUID) through sysfs.
 *
 * <p>A device fd is either a cdev ({@code /dev/vfio/devices/vfioN}, named by
 * {@code /sys/class/vfio-dev/vfioN/device}) or {@code anon_inode:[vfio-device]} obtained from a
 * group the same process holds open. The latter is named by its {@code fdinfo} on Linux 6.18 and
 * later, otherwise by its group when the group has a single VFIO device; with several the
 * resolver throws {@link AmbiguousDeviceException} rather than guess. Each device is reported
 * once, with its first holder in pid and fd order. The agent needs {@code hostPID: true} and
 * CAP_SYS_PTRACE to see into workload processes; the roots are configurable so tests run on
 * fixture trees and the DaemonSet can mount the host's directories anywhere.
 */
public final class CgroupPodResolver implements PodDeviceResolver {
  private static final Logger LOG = LoggerFactory.getLogger(CgroupPodResolver.class);
  private final PodCgroups cgroups;
  private final Sysfs sysfs;
  private final OpenFiles openFiles;

  /** The host's {@code /proc}, {@code /sys} and {@code /sys/fs/cgroup}. */
  public CgroupPodResolver() {
    this(Path.of("/proc"), Path.of("/sys"), Path.of("/sys/fs/cgroup"));
  }

  public CgroupPodResolver(Path procRoot, Path sysRoot, Path cgroupRoot) {
    this(new PodCgroups(cgroupRoot), new Sysfs(sysRoot), new ProcOpenFiles(procRoot));
  }

  CgroupPodResolver(PodCgroups cgroups, Sysfs sysfs, OpenFiles openFiles) {
    this.cgroups = cgroups;
    this.sysfs = sysfs;
    this.openFiles = openFiles;
  }

  /**
   * The devices the pod holds, in the order their first holders were found; empty when the pod
   * has no cgroup on this node or holds no VFIO device.
   *
   * @throws AmbiguousDeviceException when a device fd could be any of several devices
   * @throws AccessDeniedException when the agent may not read a process's open files
   */
  @Override
  public List<HeldDevice> resolve(PodRef pod) throws IOException {
    SortedSet<Integer> pids = new TreeSet<>();
    List<Path> directories = cgroups.podDirectories(pod.uid());
    for (Path directory : directories) {
      pids.addAll(cgroups.processes(directory));
    }
    if (pids.contains(0)) {
      // cgroup.procs shows processes of other PID namespaces as 0.
      throw new IOException("pod " + pod + ": " + directories + " lists processes as pid 0, which "
          + "are outside the agent's PID namespace; run the agent with hostPID: true");
    }
    Map<String, HeldDevice> held = new LinkedHashMap<>();
    for (int pid : pids) {
      Optional<List<OpenFd>> files = openFiles(pod, pid);
      if (files.isEmpty()) {
        continue;
      }
      List<String> groups = files.get().stream()
          .filter(f -> f.target() instanceof FdTarget.Group)
          .map(f -> ((FdTarget.Group) f.target()).group())
          .distinct().sorted(Comparator.comparingInt(Integer::parseInt)).toList();
      for (OpenFd file : files.get()) {
        Optional<String> address = device(pod, pid, file, groups);
        address.ifPresent(a -> held.putIfAbsent(a, new HeldDevice(a, pid, file.fd())));
      }
    }
    LOG.debug("pod {} holds {}", pod, held.values());
    return List.copyOf(held.values());
  }

  private Optional<List<OpenFd>> openFiles(PodRef pod, int pid) throws IOException {
    try {
      return Optional.of(openFiles.of(pid));
    } catch (NoSuchFileException e) {
      LOG.debug("pid {} of pod {} exited during the scan", pid, pod);
      return Optional.empty();
    } catch (AccessDeniedException e) {
      throw new AccessDeniedException(e.getFile(), null, "pod " + pod + ": the agent may not read "
          + "the open files of pid " + pid + "; it needs CAP_SYS_PTRACE and hostPID: true to "
          + "see into workload processes");
    } catch (FileSystemException e) {
      if ("No such process".equals(e.getReason())) {
        LOG.debug("pid {} of pod {} exited during the scan", pid, pod);
        return Optional.empty();
      }
      throw e;
    }
  }

  private Optional<String> device(PodRef pod, int pid, OpenFd file, List<String> groups)
      throws IOException {
    if (file.target() instanceof FdTarget.Cdev cdev) {
      return Optional.of(sysfs.cdevDevice(cdev.name()).orElseThrow(() -> new NoSuchFileException(
          sysfs.root().resolve("class/vfio-dev").resolve(cdev.name()).toString(), null,
          "pod " + pod + ": pid " + pid + " fd " + file.fd() + " holds /dev/vfio/devices/"
              + cdev.name() + ", which sysfs does not know; is the host's /sys mounted at "
              + sysfs.root() + "?")));
    }
    if (!(file.target() instanceof FdTarget.GroupDevice)) {
      return Optional.empty();
    }
    if (file.syspath() != null) {
      return Optional.of(Path.of(file.syspath()).getFileName().toString());
    }
    if (groups.isEmpty()) {
      throw new IOException("pod " + pod + ": pid " + pid + " fd " + file.fd() + " is a VFIO device "
          + "fd, but the process holds no VFIO group open and this kernel does not name the "
          + "device in fdinfo (Linux 6.18 does), so the agent cannot tell which device it is");
    }
    List<String> candidates = new ArrayList<>();
    for (String group : groups) {
      candidates.addAll(sysfs.vfioDevicesInGroup(group));
    }
    if (candidates.size() == 1) {
      return Optional.of(candidates.get(0));
    }
    if (candidates.isEmpty()) {
      throw new NoSuchFileException(sysfs.root().resolve("kernel/iommu_groups").toString(), null,
          "pod " + pod + ": pid " + pid + " fd " + file.fd() + " is a VFIO device fd of IOMMU group "
              + String.join(", ", groups) + ", which has no VFIO device in sysfs; is the host's "
              + "/sys mounted at " + sysfs.root() + "?");
    }
    throw new AmbiguousDeviceException(pod, pid, file.fd(), groups, candidates);
  }
}
