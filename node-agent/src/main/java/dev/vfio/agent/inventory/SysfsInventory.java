package dev.vfio.agent.inventory;

import dev.vfio.agent.devices.VfioDevice;
import dev.vfio.agent.devices.VfioDevices;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's VFIO devices for real nodes: the devices {@link VfioDevices} finds in sysfs (the ones
 * the command line lists), migration capabilities from a {@link MigrationProbe}. A device the probe
 * cannot read is still listed, without migration flags, so that one busy or broken device does not
 * take the whole inventory down.
 */
public final class SysfsInventory implements DeviceInventory {
  private static final Logger LOG = LoggerFactory.getLogger(SysfsInventory.class);
  private final VfioDevices vfioDevices;
  private final MigrationProbe probe;

  public SysfsInventory(VfioDevices vfioDevices, MigrationProbe probe) {
    this.vfioDevices = vfioDevices;
    this.probe = probe;
  }

  @Override
  public List<InventoryDevice> devices() throws IOException {
    List<InventoryDevice> devices = new ArrayList<>();
    for (VfioDevice device : vfioDevices.list()) {
      devices.add(
          migration(device)
              .map(migration -> InventoryDevice.of(device, migration))
              .orElse(InventoryDevice.unprobed(device)));
    }
    return devices;
  }

  private Optional<MigrationInfo> migration(VfioDevice device) {
    try {
      return probe.probe(device);
    } catch (IOException | RuntimeException e) {
      LOG.warn(
          "cannot read the migration support of device {} ({}); listing it without "
              + "migration flags: {}",
          device.address(),
          device.driver(),
          e.toString());
      return Optional.empty();
    }
  }
}
