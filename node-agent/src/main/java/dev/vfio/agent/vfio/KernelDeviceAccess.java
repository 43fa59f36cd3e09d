package dev.vfio.agent.vfio;

import com.sun.jna.LastErrorException;
import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import dev.vfio.agent.devices.NotVfioDeviceException;
import dev.vfio.agent.devices.VfioDevice;
import dev.vfio.agent.devices.VfioDevices;
import dev.vfio.agent.pods.HeldDevice;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Opens real VFIO devices for migration.
 *
 * <ul>
 *   <li>A device a process holds is reached through that process's own fd: {@code pidfd_open} and
 *       {@code pidfd_getfd} give this process an fd on the very open file the workload uses, so the
 *       agent acts on the workload's migration state, and closing the duplicate leaves it alone. A
 *       second open would not do: on 6.1 the group is exclusive (EBUSY), and the last close of a
 *       device ends its sessions.
 *   <li>A device nobody holds is opened directly: through its cdev and iommufd where the kernel has
 *       them (6.6 and later), otherwise through the legacy container and group. The container,
 *       group or iommufd fds stay open as long as the device fd, inside the returned device.
 * </ul>
 *
 * <p>Every failure names the device and, where the kernel refused, the call and its errno.
 */
public final class KernelDeviceAccess implements DeviceAccess {
  private static final String CONTAINER = "/dev/vfio/vfio";
  private static final String IOMMUFD = "/dev/iommu";

  private final VfioDevices devices;

  public KernelDeviceAccess(VfioDevices devices) {
    VfioAbi.requireSupportedArchitecture();
    this.devices = devices;
  }

  /** The workload's fd when {@code device} names a holder, otherwise a direct open. */
  @Override
  public KernelMigrationDevice open(HeldDevice device) throws IOException {
    if (device.pid() >= 0) {
      return take(device.address(), device.pid(), device.fd());
    }
    return open(devices.find(device.address()));
  }

  /**
   * Duplicates fd {@code fd} of process {@code pid}, which must be a VFIO device fd.
   *
   * @param address the device's name for messages and the returned device
   * @throws VfioException with the errno of {@code pidfd_open}/{@code pidfd_getfd}: ESRCH for no
   *     such process, EBADF for no such fd, EPERM without ptrace access to the process
   * @throws NotVfioDeviceException if the fd is not a VFIO device fd
   */
  public KernelMigrationDevice take(String address, int pid, int fd) throws IOException {
    String holder = "fd " + fd + " of process " + pid;
    int pidfd;
    try {
      pidfd = Libc.pidfdOpen(pid);
    } catch (LastErrorException e) {
      throw new VfioException(
          address,
          "pidfd_open(" + pid + ")",
          e.getErrorCode(),
          switch (Errno.of(e.getErrorCode())) {
            case ESRCH -> "there is no process " + pid;
            case ENOSYS -> "this kernel has no pidfd_open (Linux 5.3 and later)";
            default -> "";
          });
    }
    int duplicate;
    try {
      duplicate = Libc.pidfdGetfd(pidfd, fd);
    } catch (LastErrorException e) {
      throw new VfioException(
          address,
          "pidfd_getfd(" + holder + ")",
          e.getErrorCode(),
          switch (Errno.of(e.getErrorCode())) {
            case EPERM ->
                "taking another process's fd needs CAP_SYS_PTRACE (or the process's own"
                    + " user, with ptrace allowed by Yama)";
            case EBADF -> "process " + pid + " has no fd " + fd;
            case ESRCH -> "process " + pid + " exited";
            case ENOSYS -> "this kernel has no pidfd_getfd (Linux 5.6 and later)";
            default -> "";
          });
    } finally {
      Libc.closeQuietly(pidfd);
    }
    KernelMigrationDevice device =
        new KernelMigrationDevice(address, duplicate, holder + " (pidfd_getfd)");
    try {
      // Only a VFIO device fd answers GET_INFO (';' ioctls are VFIO's), whatever the kernel
      // names the file; the name is for the message.
      device.info();
      return device;
    } catch (VfioException e) {
      String target = fdTarget(duplicate);
      device.close();
      if (e.error() == Errno.ENOTTY) {
        throw new NotVfioDeviceException(
            address + ": " + holder + " is " + target + ", not a VFIO device fd");
      }
      throw e;
    }
  }

  /**
   * Opens a device no process holds.
   *
   * @throws VfioException naming the step that failed; EBUSY on the group means a process holds the
   *     device and it must be reached through that process
   */
  public KernelMigrationDevice open(VfioDevice device) throws IOException {
    Optional<String> cdev = device.cdev();
    if (cdev.isPresent() && Files.exists(Path.of(IOMMUFD))) {
      return openCdev(device.address(), cdev.get());
    }
    Optional<String> group = device.groupNode();
    if (group.isPresent()) {
      return openThroughGroup(device.address(), group.get());
    }
    throw new NotVfioDeviceException(
        device
            .iommuGroup()
            .map(
                number ->
                    device.address()
                        + ": IOMMU group "
                        + number
                        + " has no /dev/vfio node and"
                        + " the device no VFIO character device; is the host's /dev/vfio mounted?")
            .orElse(device.address() + " has no IOMMU group and no VFIO character device"));
  }

  private KernelMigrationDevice openCdev(String address, String path) throws VfioException {
    int device = open(address, path, "");
    int iommufd;
    try {
      iommufd = open(address, IOMMUFD, "");
      try {
        Libc.ioctl(device, VfioAbi.DEVICE_BIND_IOMMUFD, VfioAbi.bindIommufd(iommufd));
      } catch (LastErrorException e) {
        Libc.closeQuietly(iommufd);
        throw new VfioException(address, "BIND_IOMMUFD on " + path, e.getErrorCode(), "");
      }
    } catch (VfioException e) {
      Libc.closeQuietly(device);
      throw e;
    }
    return new KernelMigrationDevice(address, device, path + " bound to " + IOMMUFD, iommufd);
  }

  private KernelMigrationDevice openThroughGroup(String address, String groupPath)
      throws VfioException {
    int container = open(address, CONTAINER, "is the vfio module loaded?");
    int group = -1;
    try {
      int version = ioctl(address, container, "GET_API_VERSION", VfioAbi.GET_API_VERSION, 0);
      if (version != VfioAbi.API_VERSION) {
        throw new VfioException(
            address,
            "GET_API_VERSION",
            Errno.EOTHER,
            "the kernel speaks VFIO API " + version + ", this agent " + VfioAbi.API_VERSION);
      }
      if (ioctl(
              address,
              container,
              "CHECK_EXTENSION(TYPE1v2)",
              VfioAbi.CHECK_EXTENSION,
              VfioAbi.TYPE1V2_IOMMU)
          != 1) {
        throw new VfioException(
            address,
            "CHECK_EXTENSION(TYPE1v2)",
            Errno.ENODEV,
            "the kernel offers no type1v2 IOMMU backend (vfio_iommu_type1 not loaded?)");
      }
      group = open(address, groupPath, "");
      try {
        Libc.ioctl(group, VfioAbi.GROUP_SET_CONTAINER, VfioAbi.containerFd(container));
      } catch (LastErrorException e) {
        throw new VfioException(
            address,
            "GROUP_SET_CONTAINER",
            e.getErrorCode(),
            viable(address, group)
                ? ""
                : "IOMMU group "
                    + groupPath
                    + " is not viable: bind"
                    + " every device in it to a VFIO driver, or unbind it");
      }
      ioctl(address, container, "SET_IOMMU(TYPE1v2)", VfioAbi.SET_IOMMU, VfioAbi.TYPE1V2_IOMMU);
      int device =
          ioctl(
              address,
              group,
              "GROUP_GET_DEVICE_FD",
              VfioAbi.GROUP_GET_DEVICE_FD,
              VfioAbi.deviceName(address));
      return new KernelMigrationDevice(
          address, device, "IOMMU group " + groupPath, group, container);
    } catch (VfioException e) {
      if (group >= 0) {
        Libc.closeQuietly(group);
      }
      Libc.closeQuietly(container);
      throw e;
    }
  }

  /** Whether every device of the group is bound to VFIO or to nothing (GROUP_GET_STATUS). */
  private static boolean viable(String address, int group) throws VfioException {
    Memory status = VfioAbi.groupStatus();
    ioctl(address, group, "GROUP_GET_STATUS", VfioAbi.GROUP_GET_STATUS, status);
    return (VfioAbi.groupStatusFlags(status) & VfioAbi.GROUP_FLAGS_VIABLE) != 0;
  }

  private static int open(String address, String path, String hint) throws VfioException {
    try {
      return Libc.open(path, Libc.O_RDWR);
    } catch (LastErrorException e) {
      throw new VfioException(
          address,
          "open " + path,
          e.getErrorCode(),
          switch (Errno.of(e.getErrorCode())) {
            case EBUSY ->
                "a process holds the device open; reach it through that process's fd"
                    + " (--pid/--fd)";
            case ENOENT -> path + " does not exist" + (hint.isEmpty() ? "" : ": " + hint);
            case EACCES, EPERM -> "no permission to open " + path + " (run as root)";
            default -> hint;
          });
    }
  }

  private static int ioctl(String address, int fd, String operation, long request, Pointer arg)
      throws VfioException {
    try {
      return Libc.ioctl(fd, request, arg);
    } catch (LastErrorException e) {
      throw new VfioException(address, operation, e.getErrorCode(), "");
    }
  }

  private static int ioctl(String address, int fd, String operation, long request, long arg)
      throws VfioException {
    try {
      return Libc.ioctl(fd, request, arg);
    } catch (LastErrorException e) {
      throw new VfioException(address, operation, e.getErrorCode(), "");
    }
  }

  private static String fdTarget(int fd) {
    try {
      return Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd)).toString();
    } catch (IOException e) {
      return "an unnamed file";
    }
  }
}
