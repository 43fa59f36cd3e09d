package dev.vfio.agent.vfio;

import com.sun.jna.LastErrorException;
import com.sun.jna.Memory;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * A VFIO device fd, driven with the migration uAPI one ioctl per method, as
 * {@link MigrationDevice} requires: no retries, no policy, the kernel's errno in every failure.
 *
 * <p>The fd is either the agent's own (opened through a group or a cdev, with the container,
 * group or iommufd fds it depends on) or a duplicate of a workload's fd taken with
 * {@code pidfd_getfd}. Closing closes only what this object opened: a workload's own fd, and with
 * it the device's migration state, is not touched.
 *
 * <p>Not thread-safe, like the state machine that drives it.
 */
public final class KernelMigrationDevice implements MigrationDevice {
  private final String address;
  private final int fd;
  private final String origin;
  /** Fds the device fd needs open for as long as it lives, closed after it, in this order. */
  private final int[] dependencies;
  private boolean closed;

  KernelMigrationDevice(String address, int fd, String origin, int... dependencies) {
    this.address = address;
    this.fd = fd;
    this.origin = origin;
    this.dependencies = dependencies.clone();
  }

  @Override
  public String address() {
    return address;
  }

  /** How this fd was reached, for messages: e.g. {@code fd 7 of pid 1234 (pidfd_getfd)}. */
  public String origin() {
    return origin;
  }

  /** {@code VFIO_DEVICE_GET_INFO}. */
  public DeviceInfo info() throws VfioException {
    Memory info = VfioAbi.deviceInfo();
    ioctl("DEVICE_GET_INFO", VfioAbi.DEVICE_GET_INFO, info);
    return VfioAbi.deviceInfo(info);
  }

  @Override
  public MigrationFlags migrationFlags() throws VfioException {
    Memory feature = VfioAbi.getMigrationFlags();
    try {
      Libc.ioctl(fd, VfioAbi.DEVICE_FEATURE, feature);
    } catch (LastErrorException e) {
      int errno = e.getErrorCode();
      boolean unsupported = errno == Errno.ENOTTY.value() || errno == Errno.EINVAL.value();
      throw new VfioException(address, "GET MIGRATION", errno, unsupported
          ? "the device's driver does not support VFIO migration v2" : "");
    }
    return new MigrationFlags(VfioAbi.migrationFlags(feature));
  }

  @Override
  public MigrationState state() throws VfioException {
    Memory feature = VfioAbi.getMigState();
    ioctl("GET MIG_DEVICE_STATE", VfioAbi.DEVICE_FEATURE, feature);
    int value = VfioAbi.migState(feature);
    try {
      return MigrationState.of(value);
    } catch (IllegalArgumentException e) {
      throw new VfioException(address, "GET MIG_DEVICE_STATE", Errno.EIO,
          "the kernel reports state " + value + ", which this agent does not know");
    }
  }

  @Override
  public Optional<DataFd> setState(MigrationState target) throws VfioException {
    Memory feature = VfioAbi.setMigState(target);
    ioctl("SET MIG_DEVICE_STATE " + target, VfioAbi.DEVICE_FEATURE, feature);
    int dataFd = VfioAbi.migDataFd(feature);
    return dataFd < 0 ? Optional.empty() : Optional.of(new KernelDataFd(address, dataFd));
  }

  /** Empty on kernels before 6.2, which answer ENOTTY (Debian's 6.1) or EINVAL (6.1.0). */
  @Override
  public OptionalLong stopCopySize() throws VfioException {
    Memory feature = VfioAbi.getMigDataSize();
    try {
      Libc.ioctl(fd, VfioAbi.DEVICE_FEATURE, feature);
    } catch (LastErrorException e) {
      int errno = e.getErrorCode();
      if (errno == Errno.ENOTTY.value() || errno == Errno.EINVAL.value()) {
        return OptionalLong.empty();
      }
      throw new VfioException(address, "GET MIG_DATA_SIZE", errno, "");
    }
    return OptionalLong.of(VfioAbi.stopCopyLength(feature));
  }

  @Override
  public void reset() throws VfioException {
    try {
      Libc.ioctl(fd, VfioAbi.DEVICE_RESET, 0L);
    } catch (LastErrorException e) {
      throw new VfioException(address, "DEVICE_RESET", e.getErrorCode(), "");
    }
  }

  /** Closes the device fd first, then what it depended on: a group outlives its device fds. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    Libc.closeQuietly(fd);
    for (int dependency : dependencies) {
      Libc.closeQuietly(dependency);
    }
  }

  private void ioctl(String operation, long request, Memory arg) throws VfioException {
    try {
      Libc.ioctl(fd, request, arg);
    } catch (LastErrorException e) {
      throw new VfioException(address, operation, e.getErrorCode(), "");
    }
  }
}
