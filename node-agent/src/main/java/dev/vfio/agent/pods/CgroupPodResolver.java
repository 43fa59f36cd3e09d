package dev.vfio.agent.pods;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Path;
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
 * ({@link PodCgroups}) → every process of every container → their open VFIO device fds → the device
 * ({@link ProcessDevices}). Each device is reported once, with its first holder in pid and fd
 * order. The agent needs {@code hostPID: true} and CAP_SYS_PTRACE to see into workload processes.
 */
public final class CgroupPodResolver implements PodDeviceResolver {
  private static final Logger LOG = LoggerFactory.getLogger(CgroupPodResolver.class);
  private final PodCgroups cgroups;
  private final ProcessDevices processes;

  public CgroupPodResolver(PodCgroups cgroups, ProcessDevices processes) {
    this.cgroups = cgroups;
    this.processes = processes;
  }

  /**
   * The devices the pod holds, in the order their first holders were found; empty when the pod has
   * no cgroup on this node or holds no VFIO device.
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
      throw new IOException(
          "pod "
              + pod
              + ": "
              + directories
              + " lists processes as pid 0, which "
              + "are outside the agent's PID namespace; run the agent with hostPID: true");
    }
    Map<String, HeldDevice> held = new LinkedHashMap<>();
    for (int pid : pids) {
      Optional<List<HeldDevice>> devices = processes.held("pod " + pod, pid);
      if (devices.isEmpty()) {
        LOG.debug("pid {} of pod {} exited during the scan", pid, pod);
      }
      devices.orElse(List.of()).forEach(device -> held.putIfAbsent(device.address(), device));
    }
    LOG.debug("pod {} holds {}", pod, held.values());
    return List.copyOf(held.values());
  }
}
