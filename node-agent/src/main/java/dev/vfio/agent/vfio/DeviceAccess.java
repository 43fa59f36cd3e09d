package dev.vfio.agent.vfio;

import dev.vfio.agent.pods.HeldDevice;
import java.io.IOException;

/**
 * Opens a device for migration. On real nodes this duplicates the workload's own device fd
 * (pidfd_getfd), because migration state belongs to the open file: a second open or a close would
 * reset it.
 */
public interface DeviceAccess {
  MigrationDevice open(HeldDevice device) throws IOException;
}
