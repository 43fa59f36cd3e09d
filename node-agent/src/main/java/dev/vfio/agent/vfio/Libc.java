package dev.vfio.agent.vfio;

import com.sun.jna.LastErrorException;
import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Pointer;

/**
 * The few libc calls the kernel backend makes, through JNA, with their numbers: open flags and the
 * syscall numbers glibc has no wrapper for. A call that fails throws {@link LastErrorException}
 * carrying the errno; callers turn it into a {@link VfioException} that names the device and the
 * operation.
 *
 * <p>Failure is decided by the return value and only then is errno read, because a successful call
 * may leave errno set.
 */
final class Libc {
  static final int O_RDWR = 2;

  /** 02000000 on x86-64 and arm64 alike. */
  static final int O_CLOEXEC = 0x80000;

  /**
   * Since the io_uring syscalls (424 on) every architecture but alpha shares one number, so these
   * hold on x86-64 and arm64.
   */
  static final long SYS_PIDFD_OPEN = 434;

  static final long SYS_PIDFD_GETFD = 438;

  static final int EINTR = 4;

  /**
   * {@code ioctl}, {@code open} and {@code syscall} are variadic in C. Declaring them with fixed
   * arguments is sound here because every argument is an integer or a pointer, which x86-64 and
   * arm64 (Linux) pass the same way in variadic and fixed positions.
   */
  private interface C extends Library {
    int open(String path, int flags);

    int close(int fd);

    int ioctl(int fd, long request, Pointer arg);

    int ioctl(int fd, long request, long arg);

    long read(int fd, Pointer buffer, long count);

    long write(int fd, Pointer buffer, long count);

    long syscall(long number, long a, long b, long c);
  }

  private static final C C = Native.load("c", C.class);

  private Libc() {}

  /** Opens {@code path}, always close-on-exec: nothing the agent starts should inherit a device. */
  static int open(String path, int flags) {
    return check(C.open(path, flags | O_CLOEXEC));
  }

  static void close(int fd) {
    check(C.close(fd));
  }

  /** For cleanup paths: close(2) releases the fd even when it reports an error. */
  static void closeQuietly(int fd) {
    C.close(fd);
  }

  /** An ioctl whose argument is a struct or a buffer. */
  static int ioctl(int fd, long request, Pointer arg) {
    return check(C.ioctl(fd, request, arg));
  }

  /** An ioctl whose argument is an integer passed by value, or none. */
  static int ioctl(int fd, long request, long arg) {
    return check(C.ioctl(fd, request, arg));
  }

  static long read(int fd, Pointer buffer, long count) {
    return check(C.read(fd, buffer, count));
  }

  static long write(int fd, Pointer buffer, long count) {
    return check(C.write(fd, buffer, count));
  }

  /** {@code pidfd_open(pid, 0)}: a handle on the process that cannot be confused by pid reuse. */
  static int pidfdOpen(int pid) {
    return (int) check(C.syscall(SYS_PIDFD_OPEN, pid, 0, 0));
  }

  /**
   * {@code pidfd_getfd(pidfd, fd, 0)}: a new fd, close-on-exec, on the same open file description
   * as {@code fd} in the process; needs ptrace access to it (PTRACE_MODE_ATTACH_REALCREDS).
   */
  static int pidfdGetfd(int pidfd, int fd) {
    return (int) check(C.syscall(SYS_PIDFD_GETFD, pidfd, fd, 0));
  }

  private static int check(int result) {
    if (result < 0) {
      throw new LastErrorException(Native.getLastError());
    }
    return result;
  }

  private static long check(long result) {
    if (result < 0) {
      throw new LastErrorException(Native.getLastError());
    }
    return result;
  }
}
