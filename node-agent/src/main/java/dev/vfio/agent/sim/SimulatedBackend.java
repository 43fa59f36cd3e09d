package dev.vfio.agent.sim;

import dev.vfio.agent.NodeBackend;
import dev.vfio.agent.freeze.SharedFreezer;
import dev.vfio.agent.inventory.DeviceInventory;
import dev.vfio.agent.inventory.InventoryDevice;
import dev.vfio.agent.inventory.MigrationInfo;
import dev.vfio.agent.vfio.VfioException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;

/**
 * The simulated node: devices from the agent's configuration, pods' devices from their annotation.
 */
public final class SimulatedBackend {
  private SimulatedBackend() {}

  public static NodeBackend create(Path devicesFile, Path simulationDirectory) throws IOException {
    if (devicesFile == null) {
      throw new IllegalArgumentException(
          "VFIO_SIM_DEVICES is not set: the simulated backend needs a JSON list of devices");
    }
    return of(
        SimulatedDevices.fromFile(devicesFile, simulationDirectory.resolve("devices")),
        simulationDirectory);
  }

  /**
   * The simulated node of {@code devices}, frozen pods marked under {@code simulationDirectory}.
   */
  public static NodeBackend of(SimulatedDevices devices, Path simulationDirectory)
      throws IOException {
    DeviceInventory inventory =
        () -> {
          List<InventoryDevice> result = new ArrayList<>();
          for (String address : devices.addresses()) {
            result.add(describe(devices.open(address)));
          }
          return result;
        };
    return new NodeBackend(
        "simulated",
        inventory,
        new SimulatedPodResolver(new HashSet<>(devices.addresses()), devices.peerDma()),
        held -> devices.open(held.address()),
        new SharedFreezer(new SimulatedFreezer(simulationDirectory)));
  }

  /** Every simulated device is asked; one without v2 migration is still a VFIO device here. */
  private static InventoryDevice describe(SimulatedDevice device) throws VfioException {
    return InventoryDevice.of(
        device.spec().identity(), device.spec().details(), MigrationInfo.of(device));
  }
}
