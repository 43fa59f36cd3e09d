package dev.vfio.agent.vfio;

import java.util.Optional;

/**
 * The VFIO migration protocol a device speaks. Only v2 can be migrated by this agent; the others
 * are told apart so that the node's inventory can say why a device cannot be.
 */
public enum MigrationProtocol {
  /** Migration v2 (Linux 5.18 and later): {@code VFIO_DEVICE_FEATURE_MIGRATION} with STOP_COPY. */
  V2(Optional.empty()),
  /**
   * Only the v1 migration region ({@code VFIO_REGION_TYPE_MIGRATION_DEPRECATED}) of kernels before
   * 5.18 and of old vendor drivers: a different protocol, which the agent does not implement.
   */
  V1(
      Optional.of(
          "speaks the v1 migration region protocol, which vfio-operator does not "
              + "support; needs a kernel ≥ 5.18 with a v2 driver")),
  /** No migration at all: the driver implements neither protocol (plain vfio-pci, most mdevs). */
  NONE(
      Optional.of(
          "its driver implements no VFIO migration; bind the device to a "
              + "migration-capable variant driver"));

  private final Optional<String> notMigratableReason;

  MigrationProtocol(Optional<String> notMigratableReason) {
    this.notMigratableReason = notMigratableReason;
  }

  /** Why a device speaking this protocol cannot be migrated; empty for v2. */
  public Optional<String> notMigratableReason() {
    return notMigratableReason;
  }

  /**
   * Asks {@code device}: GET MIGRATION first, and only where that is unsupported (ENOTTY, EINVAL),
   * its regions' types. Reads only, so it is safe on a workload's fd.
   *
   * @throws VfioException when the device fails in any other way
   */
  public static MigrationProtocol of(MigrationDevice device) throws VfioException {
    try {
      if (device.migrationFlags().migratable()) {
        return V2;
      }
    } catch (VfioException e) {
      if (e.error() != Errno.ENOTTY && e.error() != Errno.EINVAL) {
        throw e;
      }
    }
    return device.regionTypes().contains(RegionType.MIGRATION_V1) ? V1 : NONE;
  }
}
