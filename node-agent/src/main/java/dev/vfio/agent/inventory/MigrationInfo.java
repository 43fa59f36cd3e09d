package dev.vfio.agent.inventory;

import dev.vfio.agent.vfio.MigrationFlags;
import dev.vfio.agent.vfio.MigrationState;

/**
 * What a device says about its migration support. {@code state} and {@code stateBytes} are null
 * when the prober could not read them without disturbing the workload or the kernel lacks the
 * call.
 */
public record MigrationInfo(MigrationFlags flags, MigrationState state, Long stateBytes) {
  public MigrationInfo {
    if (flags == null) {
      throw new IllegalArgumentException("migration flags are required; use MigrationFlags.NONE");
    }
  }
}
