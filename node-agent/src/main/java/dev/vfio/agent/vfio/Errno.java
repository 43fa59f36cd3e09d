package dev.vfio.agent.vfio;

/**
 * The errno values the VFIO migration uAPI gives meaning to, and those opening a device or taking
 * another process's fd can fail with (x86-64 and arm64 numbering).
 */
public enum Errno {
  EPERM(1),
  ENOENT(2),
  ESRCH(3),
  EINTR(4),
  EIO(5),
  ENXIO(6),
  EBADF(9),
  EAGAIN(11),
  ENOMEM(12),
  EACCES(13),
  EFAULT(14),
  EBUSY(16),
  ENODEV(19),
  EINVAL(22),
  ENOSPC(28),
  ESPIPE(29),
  ENOTTY(25),
  ENOMSG(42),
  ENOSYS(38),
  EOTHER(-1);

  private final int value;

  Errno(int value) {
    this.value = value;
  }

  public int value() {
    return value;
  }

  public static Errno of(int value) {
    for (Errno errno : values()) {
      if (errno.value == value) {
        return errno;
      }
    }
    return EOTHER;
  }
}
