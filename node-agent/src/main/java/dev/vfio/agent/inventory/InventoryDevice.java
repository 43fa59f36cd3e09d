package dev.vfio.agent.inventory;

import dev.vfio.agent.devices.DeviceDetails;
import dev.vfio.agent.devices.VfioDevice;
import dev.vfio.agent.vfio.DeviceIdentity;
import dev.vfio.agent.vfio.MigrationFlags;
import dev.vfio.agent.vfio.MigrationProtocol;
import dev.vfio.agent.vfio.MigrationState;
import dev.vfio.api.v1alpha1.DeviceFingerprint;
import java.util.Objects;
import java.util.Optional;

/**
 * One device as the node inventory reports it. {@code state} and {@code stateBytes} are null when
 * the agent cannot read them without disturbing the workload or the kernel lacks the call; {@code
 * protocol} is null when the agent could not ask the device at all.
 *
 * @param mdevType for an mdev, its type, which {@code identity} carries as its device id
 * @param details what sysfs shows beyond the ids, for the {@link #fingerprint}
 */
public record InventoryDevice(
    DeviceIdentity identity,
    Optional<String> mdevType,
    DeviceDetails details,
    MigrationFlags flags,
    MigrationState state,
    Long stateBytes,
    MigrationProtocol protocol) {

  public InventoryDevice {
    Objects.requireNonNull(identity, "identity");
    Objects.requireNonNull(mdevType, "mdevType");
    Objects.requireNonNull(details, "details");
    Objects.requireNonNull(flags, "flags");
  }

  /** What {@code migration} says of the device sysfs describes as {@code device}. */
  public static InventoryDevice of(VfioDevice device, MigrationInfo migration) {
    return of(DeviceIdentity.of(device), device.mdevType(), device.details(), migration);
  }

  /** What {@code migration} says of a PCI device of {@code identity} and {@code details}. */
  public static InventoryDevice of(
      DeviceIdentity identity, DeviceDetails details, MigrationInfo migration) {
    return of(identity, Optional.empty(), details, migration);
  }

  /** A device the agent could not ask. */
  public static InventoryDevice unprobed(VfioDevice device) {
    return new InventoryDevice(
        DeviceIdentity.of(device),
        device.mdevType(),
        device.details(),
        MigrationFlags.NONE,
        null,
        null,
        null);
  }

  private static InventoryDevice of(
      DeviceIdentity identity,
      Optional<String> mdevType,
      DeviceDetails details,
      MigrationInfo migration) {
    return new InventoryDevice(
        identity,
        mdevType,
        details,
        migration.flags(),
        migration.state(),
        migration.stateBytes(),
        migration.protocol());
  }

  /**
   * The device's fingerprint: an mdev has its type and no PCI ids of its own (its identity's device
   * id is the type), a PCI function its ids, subsystem ids and revision.
   */
  public DeviceFingerprint fingerprint() {
    boolean mdev = mdevType.isPresent();
    return DeviceFingerprint.of(
        identity.driver(),
        mdev ? null : identity.vendorId(),
        mdev ? null : identity.deviceId(),
        details.subsystemVendorId().orElse(null),
        details.subsystemDeviceId().orElse(null),
        details.revision().orElse(null),
        mdevType.orElse(null),
        flags.names(),
        details.driverVersion().orElse(null));
  }
}
