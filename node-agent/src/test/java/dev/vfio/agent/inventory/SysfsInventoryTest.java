package dev.vfio.agent.inventory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vfio.agent.fixtures.NodeFixture;
import dev.vfio.agent.vfio.DeviceIdentity;
import dev.vfio.agent.vfio.MigrationFlags;
import dev.vfio.agent.vfio.MigrationState;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;

class SysfsInventoryTest {
  static final String GVT = "83b8f4f2-509f-382f-3c1e-e6bfe0fa1001";
  static final String MTTY = "b2c3d4e5-f6a7-4b8c-9d0e-1f2a3b4c5d6e";
  static final DeviceIdentity A10 = new DeviceIdentity("0000:01:00.0", "vfio-pci", "10de", "2236", "12");
  static final DeviceIdentity VF2 = new DeviceIdentity("0000:41:00.2", "mlx5_vfio_pci", "15b3", "101e", "40");
  static final DeviceIdentity VF3 = new DeviceIdentity("0000:41:00.3", "mlx5_vfio_pci", "15b3", "101e", "41");
  static final DeviceIdentity A4000 = new DeviceIdentity("0000:81:00.0", "vfio-pci", "10de", "24b0", "60");
  static final DeviceIdentity A4000_AUDIO = new DeviceIdentity("0000:81:00.1", "vfio-pci", "10de", "228b", "60");
  static final DeviceIdentity GVT_MDEV = new DeviceIdentity(GVT, "intel_vgpu_mdev", "8086", "3e92", "20");

  @AutoClose NodeFixture node;

  Sysfs sysfs(String name) throws IOException {
    node = NodeFixture.build(name);
    return new Sysfs(node.sys());
  }

  @Test
  void listsDevicesOnVfioPciAndVariantDriversAndMdevsAndNothingElse() throws Exception {
    // Left out: root ports (pcieport), the A100 on nvidia, the mlx5_core PF, the unbound audio
    // controller and the i915 parent of the mdev.
    assertEquals(List.of(
            new SysfsDevice(A10, "vfio0", null),
            new SysfsDevice(VF2, "vfio1", null),
            new SysfsDevice(VF3, "vfio2", null),
            new SysfsDevice(A4000, "vfio3", null),
            new SysfsDevice(A4000_AUDIO, "vfio4", null),
            new SysfsDevice(GVT_MDEV, "vfio5",
                new SysfsDevice.Mdev("0000:00:02.0", "i915", "i915-GVTg_V5_4", "GVTg_V5_4"))),
        sysfs("node-a").vfioDevices());
  }

  @Test
  void mdevOfAVirtualParentHasNoPciIdsAndNoParentDriver() throws Exception {
    List<SysfsDevice> devices = sysfs("node-b").vfioDevices();
    assertEquals(new SysfsDevice(new DeviceIdentity(MTTY, "mtty", "", "", "5"), "vfio2",
            new SysfsDevice.Mdev("mtty", null, "mtty-2", "Dual port serial")),
        devices.get(devices.size() - 1));
  }

  @Test
  void deviceWithoutVfioCdevHasNone() throws Exception {
    Sysfs sysfs = sysfs("node-a");
    node.remove("sys/devices/pci0000:00/0000:00:01.0/0000:01:00.0/vfio-dev");
    assertEquals(new SysfsDevice(A10, null, null), sysfs.vfioDevices().get(0));
  }

  @Test
  void cdevsAndGroupsLeadToTheirDevices() throws Exception {
    Sysfs sysfs = sysfs("node-a");
    assertEquals(Optional.of("0000:41:00.3"), sysfs.cdevDevice("vfio2"));
    assertEquals(Optional.of(GVT), sysfs.cdevDevice("vfio5"));
    assertEquals(Optional.empty(), sysfs.cdevDevice("vfio9"));
    assertEquals(List.of("0000:81:00.0", "0000:81:00.1"), sysfs.vfioDevicesInGroup("60"));
    assertEquals(List.of(GVT), sysfs.vfioDevicesInGroup("20"));
    // Group 13 is the A100 on nvidia: no VFIO fd can refer to it.
    assertEquals(List.of(), sysfs.vfioDevicesInGroup("13"));
    assertEquals(List.of(), sysfs.vfioDevicesInGroup("99"));
  }

  @Test
  void migrationCapabilitiesComeFromTheProbe() throws Exception {
    Map<String, MigrationInfo> probed = Map.of(
        "0000:41:00.2", new MigrationInfo(new MigrationFlags(MigrationFlags.STOP_COPY
            | MigrationFlags.P2P | MigrationFlags.PRE_COPY), MigrationState.RUNNING, 1L << 20),
        GVT, new MigrationInfo(new MigrationFlags(MigrationFlags.STOP_COPY), null, null));
    List<InventoryDevice> devices = new SysfsInventory(sysfs("node-a"),
        device -> Optional.ofNullable(probed.get(device.address()))).devices();
    assertEquals(List.of(
            new InventoryDevice(A10, MigrationFlags.NONE, null, null),
            new InventoryDevice(VF2, probed.get("0000:41:00.2").flags(), MigrationState.RUNNING, 1L << 20),
            new InventoryDevice(VF3, MigrationFlags.NONE, null, null),
            new InventoryDevice(A4000, MigrationFlags.NONE, null, null),
            new InventoryDevice(A4000_AUDIO, MigrationFlags.NONE, null, null),
            new InventoryDevice(GVT_MDEV, new MigrationFlags(MigrationFlags.STOP_COPY), null, null)),
        devices);
  }

  @Test
  void deviceTheProbeCannotReadIsListedWithoutMigrationFlags() throws Exception {
    MigrationProbe probe = device -> {
      if (device.address().equals("0000:41:00.2")) {
        throw new AccessDeniedException("/dev/vfio/devices/vfio1");
      }
      if (device.address().equals("0000:41:00.3")) {
        throw new IllegalStateException("device busy");
      }
      return Optional.of(new MigrationInfo(new MigrationFlags(MigrationFlags.STOP_COPY), null, null));
    };
    List<InventoryDevice> devices = new SysfsInventory(sysfs("node-a"), probe).devices();
    assertEquals(6, devices.size());
    assertEquals(new InventoryDevice(VF2, MigrationFlags.NONE, null, null), devices.get(1));
    assertEquals(new InventoryDevice(VF3, MigrationFlags.NONE, null, null), devices.get(2));
    assertEquals(new MigrationFlags(MigrationFlags.STOP_COPY), devices.get(0).flags());
  }

  @Test
  void sysfsWithoutAPciBusIsAClearError() throws Exception {
    Sysfs sysfs = sysfs("node-a");
    node.remove("sys/bus/pci");
    IOException e = assertThrows(IOException.class, sysfs::vfioDevices);
    assertTrue(e.getMessage().endsWith("no PCI bus in sysfs: is the host's /sys mounted at "
        + node.sys() + "?"), e.getMessage());
  }

  @Test
  void deviceRemovedDuringTheScanIsLeftOut() throws Exception {
    Sysfs sysfs = sysfs("node-a");
    // Hot-unplug leaves the bus link dangling until the kernel removes it.
    node.remove("sys/devices/pci0000:40/0000:40:01.0/0000:41:00.3");
    assertEquals(List.of("0000:01:00.0", "0000:41:00.2", "0000:81:00.0", "0000:81:00.1", GVT),
        sysfs.vfioDevices().stream().map(SysfsDevice::address).toList());
    assertTrue(Files.isSymbolicLink(node.path("sys/bus/pci/devices/0000:41:00.3")));
  }
}
