package dev.vfio.agent.inventory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.vfio.agent.devices.VfioDevices;
import dev.vfio.agent.fixtures.NodeFixture;
import dev.vfio.agent.vfio.DeviceIdentity;
import dev.vfio.agent.vfio.MigrationFlags;
import dev.vfio.agent.vfio.MigrationProtocol;
import dev.vfio.agent.vfio.MigrationState;
import dev.vfio.api.v1alpha1.DeviceFingerprint;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;

class SysfsInventoryTest {
  static final String GVT = "83b8f4f2-509f-382f-3c1e-e6bfe0fa1001";
  static final String MTTY = "b2c3d4e5-f6a7-4b8c-9d0e-1f2a3b4c5d6e";
  static final DeviceIdentity A10 =
      new DeviceIdentity("0000:01:00.0", "vfio-pci", "10de", "2236", "12");
  static final DeviceIdentity VF2 =
      new DeviceIdentity("0000:41:00.2", "mlx5_vfio_pci", "15b3", "101e", "40");
  static final DeviceIdentity VF3 =
      new DeviceIdentity("0000:41:00.3", "mlx5_vfio_pci", "15b3", "101e", "41");
  static final DeviceIdentity A4000 =
      new DeviceIdentity("0000:81:00.0", "vfio-pci", "10de", "24b0", "60");
  static final DeviceIdentity A4000_AUDIO =
      new DeviceIdentity("0000:81:00.1", "vfio-pci", "10de", "228b", "60");
  static final DeviceIdentity GVT_MDEV =
      new DeviceIdentity(GVT, "intel_vgpu_mdev", "", "i915-GVTg_V5_4", "20");

  @AutoClose NodeFixture node;

  VfioDevices devices(String name) throws IOException {
    node = NodeFixture.build(name);
    return new VfioDevices(node.root());
  }

  static List<DeviceIdentity> identities(List<InventoryDevice> devices) {
    return devices.stream().map(InventoryDevice::identity).toList();
  }

  @Test
  void listsDevicesOnVfioPciAndVariantDriversAndMdevsAndNothingElse() throws Exception {
    // Left out: root ports (pcieport), the A100 on nvidia, the mlx5_core PF, the unbound audio
    // controller and the i915 parent of the mdev.
    assertEquals(
        List.of(A10, VF2, VF3, A4000, A4000_AUDIO, GVT_MDEV),
        identities(new SysfsInventory(devices("node-a"), MigrationProbe.UNKNOWN).devices()));
  }

  @Test
  void anMdevIsIdentifiedByItsDriverAndTypeAsTheCommandLineIdentifiesIt() throws Exception {
    List<InventoryDevice> devices =
        new SysfsInventory(devices("node-b"), MigrationProbe.UNKNOWN).devices();

    // A virtual parent such as mtty's has no PCI ids at all; the type tells mtty-1 from mtty-2.
    assertEquals(
        new DeviceIdentity(MTTY, "mtty", "", "mtty-2", "5"),
        devices.get(devices.size() - 1).identity());
  }

  @Test
  void migrationCapabilitiesComeFromTheProbe() throws Exception {
    Map<String, MigrationInfo> probed =
        Map.of(
            "0000:41:00.2",
            new MigrationInfo(
                MigrationProtocol.V2,
                new MigrationFlags(
                    MigrationFlags.STOP_COPY | MigrationFlags.P2P | MigrationFlags.PRE_COPY),
                MigrationState.RUNNING,
                1L << 20),
            GVT,
            new MigrationInfo(
                MigrationProtocol.V2, new MigrationFlags(MigrationFlags.STOP_COPY), null, null));
    List<InventoryDevice> devices =
        new SysfsInventory(
                devices("node-a"), device -> Optional.ofNullable(probed.get(device.address())))
            .devices();
    assertEquals(List.of(A10, VF2, VF3, A4000, A4000_AUDIO, GVT_MDEV), identities(devices));
    assertEquals(
        List.of(
            MigrationFlags.NONE,
            probed.get("0000:41:00.2").flags(),
            MigrationFlags.NONE,
            MigrationFlags.NONE,
            MigrationFlags.NONE,
            new MigrationFlags(MigrationFlags.STOP_COPY)),
        devices.stream().map(InventoryDevice::flags).toList());
    assertEquals(MigrationState.RUNNING, devices.get(1).state());
    assertEquals(1L << 20, devices.get(1).stateBytes());
    assertEquals(MigrationProtocol.V2, devices.get(5).protocol());
    assertNull(devices.get(0).protocol(), "a device the probe did not answer for");
  }

  @Test
  void theFingerprintCarriesWhatSysfsShowsAndUnknownForWhatItDoesNot() throws Exception {
    List<InventoryDevice> devices =
        new SysfsInventory(devices("node-a"), MigrationProbe.UNKNOWN).devices();

    DeviceFingerprint vf2 = devices.get(1).fingerprint();
    assertEquals("15b3", vf2.getSubsystemVendorId());
    assertEquals("0016", vf2.getSubsystemDeviceId());
    assertEquals("00", vf2.getRevision());
    assertNull(vf2.getMdevType());
    assertEquals(
        vf2.getCompatibilityKey(),
        devices.get(2).fingerprint().getCompatibilityKey(),
        "two VFs of one card load each other's state");
    DeviceFingerprint a10 = devices.get(0).fingerprint();
    assertNull(a10.getRevision(), "no revision file in this fixture: unknown, not an error");
    assertNull(a10.getSubsystemVendorId());
    assertNotEquals(vf2.getCompatibilityKey(), a10.getCompatibilityKey());
    DeviceFingerprint gvt = devices.get(5).fingerprint();
    assertEquals("i915-GVTg_V5_4", gvt.getMdevType());
    assertNull(gvt.getVendorId(), "an mdev has no PCI ids of its own");
    assertNull(gvt.getDeviceId());
    assertEquals("intel_vgpu_mdev", gvt.getDriver());
  }

  @Test
  void deviceTheProbeCannotReadIsListedWithoutMigrationFlags() throws Exception {
    MigrationProbe probe =
        device -> {
          if (device.address().equals("0000:41:00.2")) {
            throw new AccessDeniedException("/dev/vfio/devices/vfio1");
          }
          if (device.address().equals("0000:41:00.3")) {
            throw new IllegalStateException("device busy");
          }
          return Optional.of(
              new MigrationInfo(
                  MigrationProtocol.V2, new MigrationFlags(MigrationFlags.STOP_COPY), null, null));
        };
    List<InventoryDevice> devices = new SysfsInventory(devices("node-a"), probe).devices();
    assertEquals(6, devices.size());
    assertEquals(VF2, devices.get(1).identity());
    assertEquals(MigrationFlags.NONE, devices.get(1).flags());
    assertNull(devices.get(1).protocol());
    assertEquals(MigrationFlags.NONE, devices.get(2).flags());
    assertEquals(new MigrationFlags(MigrationFlags.STOP_COPY), devices.get(0).flags());
  }
}
