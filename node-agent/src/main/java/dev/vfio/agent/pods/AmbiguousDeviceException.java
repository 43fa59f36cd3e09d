package dev.vfio.agent.pods;

import java.io.IOException;
import java.util.List;

/**
 * A process holds a VFIO device fd that could be any of several devices: it was opened through a
 * group with more than one VFIO device, and the kernel (before Linux 6.18) does not say in {@code
 * fdinfo} which device the fd is. The agent does not guess, since acting on the wrong device would
 * stop or overwrite another device's state.
 */
public final class AmbiguousDeviceException extends IOException {
  private static final long serialVersionUID = 1L;
  private final int pid;
  private final int fd;
  private final List<String> candidates;

  /**
   * @param holder who holds the fd, for the message: {@code pod ns/name: pid 4410 fd 22}, or {@code
   *     fd 22 of process 4410}
   */
  public AmbiguousDeviceException(
      String holder, int pid, int fd, List<String> groups, List<String> candidates) {
    super(
        holder
            + " is a VFIO device opened through IOMMU "
            + "group"
            + (groups.size() == 1 ? " " : "s ")
            + String.join(", ", groups)
            + ", which could be any of "
            + String.join(", ", candidates)
            + "; this kernel does not "
            + "name the device in /proc/"
            + pid
            + "/fdinfo/"
            + fd
            + " (vfio-device-syspath arrived "
            + "in Linux 6.18), so the agent cannot tell which one it is and does not guess. Have the "
            + "workload open its devices through their /dev/vfio/devices cdevs, or run Linux 6.18 "
            + "or later");
    this.pid = pid;
    this.fd = fd;
    this.candidates = List.copyOf(candidates);
  }

  public int pid() {
    return pid;
  }

  public int fd() {
    return fd;
  }

  /** The devices the fd could be, in address order. */
  public List<String> candidates() {
    return candidates;
  }
}
