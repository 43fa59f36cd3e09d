package dev.vfio.agent.inventory;

import dev.vfio.agent.vfio.DeviceIdentity;
import dev.vfio.agent.vfio.MigrationFlags;
import dev.vfio.agent.vfio.MigrationState;

/**
 * One device as the node inventory reports it. {@code state} and {@code stateBytes} are null
 * when the agent cannot read them without disturbing the workload or the kernel lacks the call.
 */
public record InventoryDevice(
    DeviceIdentity identity, MigrationFlags flags, MigrationState state, Long stateBytes) {}
