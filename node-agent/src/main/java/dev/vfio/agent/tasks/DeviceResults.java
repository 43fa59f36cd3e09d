package dev.vfio.agent.tasks;

import dev.vfio.agent.inventory.InventoryDevice;
import dev.vfio.agent.vfio.MigrationStateMachine;
import dev.vfio.api.v1alpha1.DeviceResult;
import java.io.IOException;

/**
 * The part of a device's result every operation reports: identity, capabilities, the state it was
 * left in.
 */
final class DeviceResults {
  private DeviceResults() {}

  static DeviceResult of(String address, InventoryDevice inventory, MigrationStateMachine machine) {
    DeviceResult result = new DeviceResult();
    result.setAddress(address);
    result.setDriver(inventory.identity().driver());
    result.setVendorId(inventory.identity().vendorId());
    result.setDeviceId(inventory.identity().deviceId());
    result.setMigrationFlags(machine.flags().names());
    // Recorded at save time so that a restore can be checked against the device the state came
    // from, even after that device is gone.
    result.setFingerprint(inventory.fingerprint());
    try {
      result.setState(machine.state().name());
    } catch (IOException e) {
      result.setState("UNKNOWN");
    }
    return result;
  }
}
