package dev.vfio.agent.vfio;

import java.io.Closeable;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * One open VFIO device, seen through the migration uAPI exactly as the kernel offers it: one method
 * per ioctl, no policy. The kernel implementation issues ioctls on a device fd; the simulated one
 * honours the same contract (arc table, combination-arc walk, data_fd semantics, errno values).
 * Policy — recovery, buffering, refusing dangerous arcs — lives in {@link MigrationStateMachine},
 * above this interface.
 */
public interface MigrationDevice extends Closeable {
  /** PCI address or mdev UUID. */
  String address();

  /**
   * GET {@code VFIO_DEVICE_FEATURE_MIGRATION}; ENOTTY (or EINVAL) when the device cannot migrate.
   */
  MigrationFlags migrationFlags() throws VfioException;

  /** GET {@code VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE}. */
  MigrationState state() throws VfioException;

  /**
   * SET {@code VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE}: one ioctl, in which the kernel walks
   * combination arcs itself. Returns the new data_fd if the final arc opened a session. On failure
   * the device may be left in any intermediate state or in ERROR; read it back.
   */
  Optional<DataFd> setState(MigrationState target) throws VfioException;

  /**
   * GET {@code VFIO_DEVICE_FEATURE_MIG_DATA_SIZE}; empty where the kernel lacks it (before 6.2).
   */
  OptionalLong stopCopySize() throws VfioException;

  /**
   * PROBE of a SET of {@code VFIO_DEVICE_FEATURE_MIG_PRECOPY_INFOv2}: whether the device can be
   * opted in to precopy info v2. False where the kernel lacks the feature (before 7.1: ENOTTY, or
   * EINVAL from a driver without feature ops) and where the device has no PRE_COPY (EINVAL).
   */
  boolean precopyInfoV2Supported() throws VfioException;

  /**
   * SET {@code VFIO_DEVICE_FEATURE_MIG_PRECOPY_INFOv2}: from now until the device's last close,
   * {@link DataFd#precopyInfo} may report {@link PrecopyInfo#reinit}.
   */
  void enablePrecopyInfoV2() throws VfioException;

  /**
   * The type capabilities of the device's regions: {@code VFIO_DEVICE_GET_INFO} for how many there
   * are, then {@code VFIO_DEVICE_GET_REGION_INFO} with its capability chain for each. Reads only.
   * Regions without a type, and indexes the driver does not implement (EINVAL), are left out.
   */
  List<RegionType> regionTypes() throws VfioException;

  /** {@code VFIO_DEVICE_RESET}: leaves ERROR, ends any session, state becomes RUNNING. */
  void reset() throws VfioException;

  @Override
  void close();
}
