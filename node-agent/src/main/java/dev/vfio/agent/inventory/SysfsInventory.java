package dev.vfio.agent.inventory;

import dev.vfio.agent.vfio.MigrationFlags;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's VFIO devices for real nodes: identities from sysfs, migration capabilities from a
 * {@link MigrationProbe}. A device the probe cannot read is still listed, without migration
 * flags, so that one busy or broken device does not take the whole inventory down.
 */
public final class SysfsInventory implements DeviceInventory {
  private static final Logger LOG = LoggerFactory.getLogger(SysfsInventory.class);
  private final Sysfs sysfs;
  private final MigrationProbe probe;

  public SysfsInventory(Sysfs sysfs, MigrationProbe probe) {
    this.sysfs = sysfs;
    this.probe = probe;
  }

  public SysfsInventory(Path sysRoot, MigrationProbe probe) {
    this(new Sysfs(sysRoot), probe);
  }

  @Override
  public List<InventoryDevice> devices() throws IOException {
    List<InventoryDevice> devices = new ArrayList<>();
    for (SysfsDevice device : sysfs.vfioDevices()) {
      MigrationInfo migration = migration(device)
          .orElse(new MigrationInfo(MigrationFlags.NONE, null, null));
      devices.add(new InventoryDevice(device.identity(), migration.flags(), migration.state(),
          migration.stateBytes()));
    }
    return devices;
  }

  private Optional<MigrationInfo> migration(SysfsDevice device) {
    try {
      return probe.probe(device);
    } catch (IOException | RuntimeException e) {
      LOG.warn("cannot read the migration support of device {} ({}); listing it without "
          + "migration flags: {}", device.address(), device.identity().driver(), e.toString());
      return Optional.empty();
    }
  }
}
