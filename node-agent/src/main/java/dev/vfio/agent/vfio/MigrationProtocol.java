package dev.vfio.agent.vfio;

import dev.vfio.api.v1alpha1.Reason;
import java.util.Optional;

/**
 * The VFIO migration protocol a device speaks. Only v2 can be migrated by this agent; the others
 * are told apart so that the node's inventory can say why a device cannot be.
 */
public enum MigrationProtocol {
  /** Migration v2 (Linux 5.18 and later): {@code VFIO_DEVICE_FEATURE_MIGRATION} with STOP_COPY. */
  V2(null, ""),
  /**
   * Only the v1 migration region ({@code VFIO_REGION_TYPE_MIGRATION_DEPRECATED}) of kernels before
   * 5.18 and of old vendor drivers: a different protocol, which the agent does not implement.
   */
  V1(
      Reason.MIGRATION_PROTOCOL_V1,
      "speaks the v1 migration region protocol, which vfio-operator does not "
          + "support; needs a kernel ≥ 5.18 with a v2 driver"),
  /** No migration at all: the driver implements neither protocol (plain vfio-pci, most mdevs). */
  NONE(
      Reason.DEVICE_NOT_MIGRATABLE,
      "its driver implements no VFIO migration; bind the device to a "
          + "migration-capable variant driver");

  private final Reason reason;
  private final String why;

  MigrationProtocol(Reason reason, String why) {
    this.reason = reason;
    this.why = why;
  }

  /** The reason a task naming a device of this protocol fails with; empty for v2. */
  public Optional<Reason> reason() {
    return Optional.ofNullable(reason);
  }

  /** Why a device speaking this protocol cannot be migrated, in words; empty for v2. */
  public String description() {
    return why;
  }

  /**
   * Why a device speaking this protocol cannot be migrated, led by its reason's wire name (as the
   * VfioNode shows it); empty for v2.
   */
  public Optional<String> notMigratableReason() {
    return reason().map(r -> r.wire() + ": " + why);
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
