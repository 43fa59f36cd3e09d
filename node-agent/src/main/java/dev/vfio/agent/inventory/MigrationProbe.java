package dev.vfio.agent.inventory;

import dev.vfio.agent.devices.VfioDevice;
import java.io.IOException;
import java.util.Optional;

/**
 * Asks a device for its migration capabilities. Sysfs does not carry them, so the inventory takes
 * them from whoever can talk to the device (the kernel layer on real nodes).
 */
@FunctionalInterface
public interface MigrationProbe {
  /** A probe that knows nothing: every device is listed without migration flags. */
  MigrationProbe UNKNOWN = device -> Optional.empty();

  /**
   * Empty when the device cannot be asked (busy, no permission, the kernel lacks the feature call);
   * an exception is reported the same way by the inventory, with its reason logged.
   */
  Optional<MigrationInfo> probe(VfioDevice device) throws IOException;
}
