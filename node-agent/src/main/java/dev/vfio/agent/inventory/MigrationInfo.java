package dev.vfio.agent.inventory;

import dev.vfio.agent.vfio.MigrationDevice;
import dev.vfio.agent.vfio.MigrationFlags;
import dev.vfio.agent.vfio.MigrationProtocol;
import dev.vfio.agent.vfio.MigrationState;
import dev.vfio.agent.vfio.VfioException;
import java.util.OptionalLong;

/**
 * What a device says about its migration support. {@code state} and {@code stateBytes} are null
 * when the prober could not read them without disturbing the workload or the kernel lacks the call,
 * and for a device that does not speak v2.
 */
public record MigrationInfo(
    MigrationProtocol protocol, MigrationFlags flags, MigrationState state, Long stateBytes) {
  public MigrationInfo {
    if (protocol == null) {
      throw new IllegalArgumentException("the migration protocol is required");
    }
    if (flags == null) {
      throw new IllegalArgumentException("migration flags are required; use MigrationFlags.NONE");
    }
  }

  /**
   * Asks an open device: the protocol it speaks, and for a v2 device its flags, state and state
   * size. Reads only.
   */
  public static MigrationInfo of(MigrationDevice device) throws VfioException {
    MigrationProtocol protocol = MigrationProtocol.of(device);
    if (protocol != MigrationProtocol.V2) {
      return new MigrationInfo(protocol, MigrationFlags.NONE, null, null);
    }
    OptionalLong size = device.stopCopySize();
    return new MigrationInfo(
        protocol,
        device.migrationFlags(),
        device.state(),
        size.isPresent() ? size.getAsLong() : null);
  }
}
