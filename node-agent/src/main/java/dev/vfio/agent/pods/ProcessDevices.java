package dev.vfio.agent.pods;

import dev.vfio.agent.devices.NotVfioDeviceException;
import dev.vfio.agent.devices.VfioDevice;
import dev.vfio.agent.devices.VfioDevices;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * Which VFIO devices a process holds, from its open files, for the pod resolver (every process of a
 * pod) and for the command line (one fd an admin names).
 *
 * <p>A device fd is either a cdev ({@code /dev/vfio/devices/vfioN}, named by sysfs) or {@code
 * anon_inode:[vfio-device]} obtained from a group the same process holds open. The latter is named
 * by its {@code fdinfo} on Linux 6.18 and later, otherwise by its groups when they have a single
 * VFIO device; with several this class throws {@link AmbiguousDeviceException} rather than guess.
 * Devices come from {@link VfioDevices}, so a held device is described as the inventory lists it.
 *
 * <p>Logs nothing, so that the command line does not start the logging (see {@code
 * VfioDevices.log()}).
 */
public final class ProcessDevices {
  private final VfioDevices devices;
  private final OpenFiles openFiles;

  /** Reads the open files of processes below {@code procRoot} (the host's {@code /proc}). */
  public ProcessDevices(VfioDevices devices, Path procRoot) {
    this(devices, new ProcOpenFiles(procRoot));
  }

  ProcessDevices(VfioDevices devices, OpenFiles openFiles) {
    this.devices = devices;
    this.openFiles = openFiles;
  }

  /**
   * The device behind fd {@code fd} of process {@code pid}.
   *
   * @throws NotVfioDeviceException when there is no such process or fd, its fds cannot be read, or
   *     the fd is not a VFIO device fd
   * @throws AmbiguousDeviceException when the fd could be any of several devices
   */
  public VfioDevice heldBy(int pid, int fd) throws IOException {
    List<OpenFd> files;
    try {
      files = openFiles.of(pid);
    } catch (NoSuchFileException e) {
      throw new NotVfioDeviceException("there is no process " + pid);
    } catch (AccessDeniedException e) {
      throw new NotVfioDeviceException(
          "cannot read the fds of process "
              + pid
              + ": permission denied (run as root, or as the process's user)");
    }
    OpenFd file =
        files.stream()
            .filter(open -> open.fd() == fd)
            .findFirst()
            .orElseThrow(() -> new NotVfioDeviceException("process " + pid + " has no fd " + fd));
    String holder = "fd " + fd + " of process " + pid;
    return device(holder, pid, file, groups(files))
        .orElseThrow(
            () ->
                new NotVfioDeviceException(
                    holder + " is " + file.link() + ", not a VFIO device fd"));
  }

  /**
   * The devices process {@code pid} holds, in fd order, each with the fd it is held by (a device
   * held twice comes twice); empty when the process exited meanwhile.
   *
   * @param who whose process it is, for messages: {@code pod ns/name}
   * @throws AmbiguousDeviceException when a device fd could be any of several devices
   * @throws AccessDeniedException when the agent may not read the process's open files
   */
  Optional<List<HeldDevice>> held(String who, int pid) throws IOException {
    Optional<List<OpenFd>> files = openFiles(who, pid);
    if (files.isEmpty()) {
      return Optional.empty();
    }
    List<String> groups = groups(files.get());
    List<HeldDevice> held = new ArrayList<>();
    for (OpenFd file : files.get()) {
      device(who + ": pid " + pid + " fd " + file.fd(), pid, file, groups)
          .ifPresent(device -> held.add(new HeldDevice(device.address(), pid, file.fd())));
    }
    return Optional.of(held);
  }

  private Optional<List<OpenFd>> openFiles(String who, int pid) throws IOException {
    try {
      return Optional.of(openFiles.of(pid));
    } catch (NoSuchFileException e) {
      return Optional.empty();
    } catch (AccessDeniedException e) {
      throw new AccessDeniedException(
          e.getFile(),
          null,
          who
              + ": the agent may not read "
              + "the open files of pid "
              + pid
              + "; it needs CAP_SYS_PTRACE and hostPID: true to "
              + "see into workload processes");
    } catch (FileSystemException e) {
      if ("No such process".equals(e.getReason())) {
        return Optional.empty();
      }
      throw e;
    }
  }

  /** The IOMMU groups the process holds open, in number order. */
  private static List<String> groups(List<OpenFd> files) {
    return files.stream()
        .filter(file -> file.target() instanceof FdTarget.Group)
        .map(file -> ((FdTarget.Group) file.target()).group())
        .distinct()
        .sorted(Comparator.comparingInt(Integer::parseInt))
        .toList();
  }

  /** The device {@code file} refers to; empty when it is no device fd. */
  private Optional<VfioDevice> device(String holder, int pid, OpenFd file, List<String> groups)
      throws IOException {
    if (file.target() instanceof FdTarget.Cdev cdev) {
      return Optional.of(
          devices
              .byCdev(cdev.name())
              .orElseThrow(
                  () ->
                      unknown(
                          holder
                              + " holds /dev/vfio/devices/"
                              + cdev.name()
                              + ", which sysfs does not know")));
    }
    if (!(file.target() instanceof FdTarget.GroupDevice)) {
      return Optional.empty();
    }
    if (file.syspath() != null) {
      return Optional.of(
          devices
              .bySysfsPath(file.syspath())
              .orElseThrow(
                  () ->
                      unknown(
                          holder
                              + " is a VFIO device fd of "
                              + file.syspath()
                              + ", which sysfs does not know")));
    }
    if (groups.isEmpty()) {
      throw new IOException(
          holder
              + " is a VFIO device fd, but the process holds no VFIO group "
              + "open and this kernel does not name the device in fdinfo (Linux 6.18 does), so the "
              + "agent cannot tell which device it is");
    }
    List<VfioDevice> candidates = new ArrayList<>();
    for (String group : groups) {
      candidates.addAll(devices.inGroup(group));
    }
    if (candidates.size() == 1) {
      return Optional.of(candidates.get(0));
    }
    if (candidates.isEmpty()) {
      throw unknown(
          holder
              + " is a VFIO device fd of IOMMU group "
              + String.join(", ", groups)
              + ", which has no VFIO device in sysfs");
    }
    throw new AmbiguousDeviceException(
        holder, pid, file.fd(), groups, candidates.stream().map(VfioDevice::address).toList());
  }

  /** A device fd whose device sysfs does not show: the agent is not looking at the host's /sys. */
  private IOException unknown(String what) {
    return new IOException(what + "; is the host's /sys mounted at " + devices.sysRoot() + "?");
  }
}
