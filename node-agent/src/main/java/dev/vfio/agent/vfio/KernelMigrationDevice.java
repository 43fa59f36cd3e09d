package dev.vfio.agent.vfio;

import com.sun.jna.LastErrorException;
import com.sun.jna.Memory;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * A VFIO device fd, driven with the migration uAPI one ioctl per method, as {@link MigrationDevice}
 * requires: no retries, no policy, the kernel's errno in every failure.
 *
 * <p>The fd is either the agent's own (opened through a group or a cdev, with the container, group
 * or iommufd fds it depends on) or a duplicate of a workload's fd taken with {@code pidfd_getfd}.
 * Closing closes only what this object opened: a workload's own fd, and with it the device's
 * migration state, is not touched.
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
      throw new VfioException(
          address,
          "GET MIGRATION",
          errno,
          unsupported ? "the device's driver does not support VFIO migration v2" : "");
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
      throw new VfioException(
          address,
          "GET MIG_DEVICE_STATE",
          Errno.EIO,
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
  public boolean precopyInfoV2Supported() throws VfioException {
    try {
      Libc.ioctl(fd, VfioAbi.DEVICE_FEATURE, VfioAbi.probePrecopyInfoV2());
      return true;
    } catch (LastErrorException e) {
      int errno = e.getErrorCode();
      if (errno == Errno.ENOTTY.value() || errno == Errno.EINVAL.value()) {
        return false;
      }
      throw new VfioException(address, "PROBE MIG_PRECOPY_INFOv2", errno, "");
    }
  }

  @Override
  public void enablePrecopyInfoV2() throws VfioException {
    ioctl("SET MIG_PRECOPY_INFOv2", VfioAbi.DEVICE_FEATURE, VfioAbi.setPrecopyInfoV2());
  }

  @Override
  public List<RegionType> regionTypes() throws VfioException {
    List<RegionType> types = new ArrayList<>();
    for (long index = 0; index < info().regions(); index++) {
      regionType((int) index).ifPresent(types::add);
    }
    return types;
  }

  /**
   * GET_REGION_INFO of one region: with room for the struct alone first, then, if the region has
   * capabilities, again with the room the kernel asked for. EINVAL is a region index the driver
   * does not implement (vfio-pci's VGA region on a device without VGA, for one).
   */
  private Optional<RegionType> regionType(int index) throws VfioException {
    Memory info = VfioAbi.regionInfo(index, VfioAbi.REGION_INFO_SIZE);
    String operation = "DEVICE_GET_REGION_INFO " + index;
    try {
      Libc.ioctl(fd, VfioAbi.DEVICE_GET_REGION_INFO, info);
      int needed = VfioAbi.regionInfoRoomNeeded(info);
      if (needed > 0) {
        info = VfioAbi.regionInfo(index, needed);
        Libc.ioctl(fd, VfioAbi.DEVICE_GET_REGION_INFO, info);
      }
    } catch (LastErrorException e) {
      if (e.getErrorCode() == Errno.EINVAL.value()) {
        return Optional.empty();
      }
      throw new VfioException(address, operation, e.getErrorCode(), "");
    }
    return VfioAbi.regionType(info);
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
