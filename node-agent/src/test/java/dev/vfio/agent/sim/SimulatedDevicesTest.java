package dev.vfio.agent.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vfio.agent.devices.DeviceDetails;
import dev.vfio.agent.inventory.InventoryDevice;
import dev.vfio.agent.vfio.DeviceIdentity;
import dev.vfio.agent.vfio.Errno;
import dev.vfio.agent.vfio.MigrationFlags;
import dev.vfio.agent.vfio.MigrationState;
import dev.vfio.agent.vfio.VfioException;
import dev.vfio.api.v1alpha1.DeviceFingerprint;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SimulatedDevicesTest {
  @TempDir Path stateDir;

  static final String CONFIGURATION =
      """
      [
        {"address": "0000:65:00.0", "driver": "mlx5_vfio_pci", "vendorId": "15b3",
         "deviceId": "101e", "subsystemVendorId": "15b3", "subsystemDeviceId": "0016",
         "revision": "00", "driverVersion": "1.0", "iommuGroup": "42", "stateBytes": 65536,
         "flags": ["STOP_COPY", "P2P", "PRE_COPY"], "dirtyBytesPerRound": 4096,
         "zeroAtPrecopyEnd": true, "migDataSize": false, "precopyInfoV2": false,
         "reinitOnPrecopyInfo": 3, "v1MigrationRegion": true,
         "faults": {"arcs": [{"from": "STOP", "to": "STOP_COPY", "errno": "EIO",
                              "leaveInError": true}],
                    "failStreamAfterBytes": 4096, "bytesPerSecond": 1000000,
                    "rejectResumeData": true,
                    "refuseResumeWrite": {"afterBytes": 60, "errno": "ENOSPC"}}},
        {"address": "0000:66:00.0"}
      ]
      """;

  @Test
  void parsesEveryFieldOfADeviceAndDefaultsTheRest() {
    List<SimulatedDeviceSpec> specs = SimulatedDevices.parse(CONFIGURATION);
    SimulatedDeviceSpec full = specs.get(0);
    assertEquals(
        new DeviceIdentity("0000:65:00.0", "mlx5_vfio_pci", "15b3", "101e", "42"), full.identity());
    assertEquals(
        new DeviceDetails(
            Optional.of("15b3"), Optional.of("0016"), Optional.of("00"), Optional.of("1.0")),
        full.details());
    assertEquals(65536, full.stateBytes());
    assertEquals(List.of("STOP_COPY", "P2P", "PRE_COPY"), full.flags().names());
    assertEquals(4096, full.dirtyBytesPerRound());
    assertTrue(full.zeroAtPrecopyEnd());
    assertEquals(false, full.migDataSize());
    assertEquals(false, full.precopyInfoV2());
    assertEquals(3, full.reinitOnPrecopyInfo());
    assertTrue(full.v1MigrationRegion());
    assertEquals(
        new SimulatedFaults(
            List.of(
                new SimulatedFaults.ArcFault(
                    MigrationState.STOP, MigrationState.STOP_COPY, Errno.EIO, true)),
            OptionalLong.of(4096),
            1_000_000,
            true,
            Optional.of(new SimulatedFaults.WriteRefusal(60, Errno.ENOSPC))),
        full.faults());
    assertEquals(SimulatedDeviceSpec.of("0000:66:00.0", 1 << 20), specs.get(1));
  }

  @Test
  void opensOneDevicePerAddressAndNoOther() throws Exception {
    SimulatedDevices devices = SimulatedDevices.fromJson(CONFIGURATION, stateDir);
    assertEquals(List.of("0000:65:00.0", "0000:66:00.0"), devices.addresses());
    assertSame(devices.open("0000:66:00.0"), devices.open("0000:66:00.0"));
    assertEquals(
        new MigrationFlags(MigrationFlags.STOP_COPY | MigrationFlags.P2P),
        devices.open("0000:66:00.0").migrationFlags());
    VfioException e = assertThrows(VfioException.class, () -> devices.open("0000:99:00.0"));
    assertEquals(Errno.ENODEV, e.error());
  }

  @Test
  void theSimulatedInventoryPublishesEachDevicesFingerprint() throws Exception {
    List<InventoryDevice> inventory =
        SimulatedBackend.of(SimulatedDevices.fromJson(CONFIGURATION, stateDir), stateDir)
            .inventory()
            .devices();

    DeviceFingerprint configured = inventory.get(0).fingerprint();
    assertEquals("mlx5_vfio_pci", configured.getDriver());
    assertEquals("0016", configured.getSubsystemDeviceId());
    assertEquals("00", configured.getRevision());
    assertEquals("1.0", configured.getDriverVersion());
    assertEquals(List.of("STOP_COPY", "P2P", "PRE_COPY"), configured.getMigrationFlags());
    DeviceFingerprint defaulted = inventory.get(1).fingerprint();
    assertNull(defaulted.getRevision(), "not configured: unknown");
    assertNotEquals(configured.getCompatibilityKey(), defaulted.getCompatibilityKey());
  }

  @Test
  void readsTheConfigurationFromAFile() throws Exception {
    Path file = Files.writeString(stateDir.resolve("devices.json"), CONFIGURATION);
    SimulatedDevices devices = SimulatedDevices.fromFile(file, stateDir.resolve("state"));
    assertEquals(65536, devices.open("0000:65:00.0").spec().stateBytes());
  }

  @Test
  void devicesFoundAgainKeepTheStateTheyWereLeftIn() throws Exception {
    SimulatedDevices.fromJson(CONFIGURATION, stateDir)
        .open("0000:66:00.0")
        .setState(MigrationState.STOP);
    assertEquals(
        MigrationState.STOP,
        SimulatedDevices.fromJson(CONFIGURATION, stateDir).open("0000:66:00.0").state());
  }

  @Test
  void refusesAnAddressListedTwice() {
    assertThrows(
        IllegalArgumentException.class,
        () ->
            SimulatedDevices.fromJson(
                "[{\"address\": \"0000:65:00.0\"}, {\"address\": \"0000:65:00.0\"}]", stateDir));
  }

  @Test
  void refusesAMisspeltFieldRatherThanFallingBackToItsDefault() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> SimulatedDevices.parse("[{\"address\": \"0000:65:00.0\", \"stateByte\": 10}]"));
    assertTrue(
        e.getMessage().contains("0000:65:00.0") && e.getMessage().contains("stateByte"),
        e.getMessage());
  }

  @Test
  void refusesADeviceWithoutAddress() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> SimulatedDevices.parse("[{\"stateBytes\": 10}]"));
    assertTrue(e.getMessage().contains("address is required"), e.getMessage());
  }

  @Test
  void refusesAnUnknownFlag() {
    assertThrows(
        IllegalArgumentException.class,
        () -> SimulatedDevices.parse("[{\"address\": \"a\", \"flags\": [\"PRECOPY\"]}]"));
  }
}
