package dev.vfio.agent.inventory;

import dev.vfio.agent.vfio.DeviceIdentity;
import dev.vfio.agent.vfio.MigrationFlags;
import dev.vfio.agent.vfio.MigrationProtocol;
import dev.vfio.agent.vfio.MigrationState;

/**
 * One device as the node inventory reports it. {@code state} and {@code stateBytes} are null when
 * the agent cannot read them without disturbing the workload or the kernel lacks the call; {@code
 * protocol} is null when the agent could not ask the device at all.
 */
public record InventoryDevice(
    DeviceIdentity identity,
    MigrationFlags flags,
    MigrationState state,
    Long stateBytes,
    MigrationProtocol protocol) {

  /** What {@code migration} says of the device {@code identity} names. */
  public static InventoryDevice of(DeviceIdentity identity, MigrationInfo migration) {
    return new InventoryDevice(
        identity,
        migration.flags(),
        migration.state(),
        migration.stateBytes(),
        migration.protocol());
  }

  /** A device the agent could not ask. */
  public static InventoryDevice unprobed(DeviceIdentity identity) {
    return new InventoryDevice(identity, MigrationFlags.NONE, null, null, null);
  }
}
