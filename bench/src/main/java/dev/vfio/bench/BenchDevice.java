package dev.vfio.bench;

import dev.vfio.agent.blobs.BlobCompression;
import dev.vfio.agent.blobs.BlobHeader;
import dev.vfio.agent.sim.SimulatedDevice;
import dev.vfio.agent.sim.SimulatedDeviceSpec;
import dev.vfio.agent.vfio.DeviceIdentity;
import dev.vfio.agent.vfio.MigrationFlags;
import dev.vfio.agent.vfio.MigrationState;
import dev.vfio.agent.vfio.MigrationStateMachine;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;

/**
 * A simulated device the way the agent drives it, for the benchmarks that run the data path without
 * a cluster: state of a given size, taken to STOP_COPY for a save or RESUMING for a load.
 *
 * @param device the simulated device, its state kept under the directory it was opened with
 * @param machine the agent's state machine on it
 */
record BenchDevice(SimulatedDevice device, MigrationStateMachine machine) {
  static final String ADDRESS = "0000:bb:00.0";

  /** A fresh STOP_COPY-capable device with {@code stateBytes} of state under {@code directory}. */
  static BenchDevice open(Path directory, String address, long stateBytes) throws IOException {
    SimulatedDevice device =
        new SimulatedDevice(
            SimulatedDeviceSpec.of(address, stateBytes)
                .withFlags(new MigrationFlags(MigrationFlags.STOP_COPY)),
            directory);
    return new BenchDevice(device, MigrationStateMachine.probe(device));
  }

  /** RUNNING to STOP_COPY: a save may read the state. */
  BenchDevice stopCopy() throws IOException {
    machine.transition(MigrationState.STOP_COPY);
    return this;
  }

  /** RUNNING to RESUMING: a load may write the state. */
  BenchDevice resuming() throws IOException {
    machine.transition(MigrationState.RESUMING);
    return this;
  }

  /** What the agent would write at the start of this device's blob. */
  BlobHeader header(BlobCompression compression) {
    return header(device.spec().identity(), compression);
  }

  /** The header of a blob of a STOP_COPY-only device with {@code identity}. */
  static BlobHeader header(DeviceIdentity identity, BlobCompression compression) {
    return new BlobHeader(
        BlobHeader.FORMAT_VERSION,
        identity,
        new MigrationFlags(MigrationFlags.STOP_COPY).names(),
        System.getProperty("os.version"),
        "bench-node",
        "bench",
        "bench-pod",
        "bench",
        Instant.now().toString(),
        compression);
  }
}
