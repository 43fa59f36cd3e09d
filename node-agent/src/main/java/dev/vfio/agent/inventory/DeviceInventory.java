package dev.vfio.agent.inventory;

import java.io.IOException;
import java.util.List;

/** The VFIO devices on this node with their migration capabilities. */
public interface DeviceInventory {
  List<InventoryDevice> devices() throws IOException;
}
