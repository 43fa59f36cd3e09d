package dev.vfio.agent.devices;

import static dev.vfio.agent.fixtures.SysfsFixture.MDEV;
import static dev.vfio.agent.fixtures.SysfsFixture.UNBOUND_MDEV;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vfio.agent.devices.VfioDevice.Kind;
import dev.vfio.agent.fixtures.NodeFixture;
import dev.vfio.agent.fixtures.SysfsFixture;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VfioDevicesTest {
  static final VfioDevice VARIANT =
      new VfioDevice(
          "0000:65:00.0",
          Kind.PCI,
          "mlx5_vfio_pci",
          "15b3",
          "101e",
          Optional.empty(),
          Optional.of("12"),
          Optional.of("/dev/vfio/12"),
          Optional.empty(),
          new DeviceDetails(
              Optional.of("15b3"), Optional.of("0047"), Optional.of("00"), Optional.empty()));
  static final VfioDevice WITH_CDEV =
      new VfioDevice(
          "0000:66:00.0",
          Kind.PCI,
          "vfio-pci",
          "1af4",
          "1041",
          Optional.empty(),
          Optional.of("13"),
          Optional.of("/dev/vfio/13"),
          Optional.of("/dev/vfio/devices/vfio3"),
          new DeviceDetails(
              Optional.of("1af4"), Optional.of("1100"), Optional.of("01"), Optional.empty()));
  static final VfioDevice MIGRATABLE_MDEV =
      new VfioDevice(
          MDEV,
          Kind.MDEV,
          "vfio_mig_test",
          "",
          "",
          Optional.of("vfio_mig_test-mem"),
          Optional.of("0"),
          Optional.of("/dev/vfio/0"),
          Optional.empty(),
          DeviceDetails.UNKNOWN);

  @TempDir Path root;

  VfioDevices devices;

  @BeforeEach
  void node() throws Exception {
    devices = new VfioDevices(SysfsFixture.create(root));
  }

  @Test
  void listsPciFunctionsOnVfioDriversThenBoundMdevsEachInAddressOrder() throws Exception {
    // Left out: 0000:00:02.0 on i915, 0000:00:03.0 on no driver, an mdev bound to no driver.
    assertEquals(
        List.of(
            "0000:65:00.0",
            "0000:66:00.0",
            "0000:67:00.0",
            "0000:68:00.0",
            "0000:69:00.0",
            "0000:6a:00.0",
            MDEV),
        devices.list().stream().map(VfioDevice::address).toList());
  }

  @Test
  void aVariantDriverIsVfioByItsName() throws Exception {
    assertEquals(VARIANT, devices.find("0000:65:00.0"));
    assertEquals("acme-vfio-pci", devices.find("0000:6a:00.0").driver());
  }

  @Test
  void aDriverOutsideTheNamingConventionIsVfioByItsVfioDevEntry() throws Exception {
    assertEquals(
        new VfioDevice(
            "0000:69:00.0",
            Kind.PCI,
            "acme_vf",
            "1d0f",
            "efa1",
            Optional.empty(),
            Optional.of("17"),
            Optional.of("/dev/vfio/noiommu-17"),
            Optional.of("/dev/vfio/devices/vfio4"),
            new DeviceDetails(
                Optional.empty(), Optional.empty(), Optional.empty(), Optional.of("2.4.1"))),
        devices.find("0000:69:00.0"));
  }

  @Test
  void detailsSysfsDoesNotShowAreUnknownNotAnError() throws Exception {
    DeviceDetails outOfTree = devices.find("0000:69:00.0").details();
    assertEquals(Optional.empty(), outOfTree.revision(), "no revision file");
    assertEquals(Optional.empty(), outOfTree.subsystemVendorId());
    assertEquals(Optional.of("2.4.1"), outOfTree.driverVersion(), "its module declares one");
    assertEquals(
        Optional.empty(),
        devices.find("0000:65:00.0").details().driverVersion(),
        "an mlx5_vfio_pci without module/version in sysfs");
    assertEquals(DeviceDetails.UNKNOWN, devices.find(MDEV).details(), "an mdev has no PCI files");
  }

  @Test
  void aPlainVfioPciDeviceCarriesItsCdevWhenItsNodeExists() throws Exception {
    assertEquals(WITH_CDEV, devices.find("0000:66:00.0"));
  }

  @Test
  void anMdevCarriesItsTypeAndNoPciIdsAndNoCdevWithoutItsNode() throws Exception {
    assertEquals(MIGRATABLE_MDEV, devices.find(MDEV.toUpperCase()));
  }

  @Test
  void idsAreLowerCaseWithoutTheirPrefix() throws Exception {
    VfioDevice device = devices.find("0000:67:00.0");

    assertEquals("10de", device.vendorId());
    assertEquals("20b5", device.deviceId());
  }

  @Test
  void aDeviceWithoutAnIommuGroupHasNeitherGroupNorGroupNode() throws Exception {
    VfioDevice device = devices.find("0000:68:00.0");

    assertEquals(Optional.empty(), device.iommuGroup());
    assertEquals(Optional.empty(), device.groupNode());
  }

  @Test
  void aGroupWhoseNodeIsMissingHasNoGroupNode() throws Exception {
    VfioDevice device = devices.find("0000:6a:00.0");

    assertEquals(Optional.of("18"), device.iommuGroup());
    assertEquals(Optional.empty(), device.groupNode());
  }

  @Test
  void aShortPciAddressMeansDomainZeroInAnyCase() throws Exception {
    assertEquals("0000:6a:00.0", devices.find("6A:00.0").address());
  }

  @Test
  void aCdevPathNamesItsDevice() throws Exception {
    assertEquals(WITH_CDEV, devices.find("/dev/vfio/devices/vfio3"));
    assertEquals(Optional.of(WITH_CDEV), devices.byCdev("vfio3"));
    assertEquals(Optional.empty(), devices.byCdev("vfio9"));
  }

  @Test
  void aSysfsPathNamesItsDevice() throws Exception {
    assertEquals(MIGRATABLE_MDEV, devices.find("/sys/bus/mdev/devices/" + MDEV));
    assertEquals(Optional.of(VARIANT), devices.bySysfsPath("/sys/devices/pci0000:00/0000:65:00.0"));
    assertEquals(Optional.empty(), devices.bySysfsPath("/sys/devices/pci0000:00/0000:99:00.0"));
  }

  @Test
  void aGroupHoldsOnlyItsVfioDevices() throws Exception {
    // Group 13 also holds a device bound to i915, which is not VFIO's.
    assertEquals(List.of(WITH_CDEV), devices.inGroup("13"));
    assertEquals(List.of(), devices.inGroup("14"));
    assertEquals(List.of(), devices.inGroup("99"));
  }

  @Test
  void aGroupPathNamesTheOnlyVfioDeviceInIt() throws Exception {
    assertEquals(MDEV, devices.find("/dev/vfio/0").address());
    assertEquals("0000:66:00.0", devices.find("/dev/vfio/13").address());
    assertEquals(
        "/dev/vfio/14: no VFIO device in IOMMU group 14",
        assertThrows(NotVfioDeviceException.class, () -> devices.find("/dev/vfio/14"))
            .getMessage());
  }

  @Test
  void cdevsAndGroupsOfAGpuNodeLeadToTheirDevices() throws Exception {
    try (NodeFixture node = NodeFixture.build("node-a")) {
      VfioDevices gpuNode = new VfioDevices(node.root());

      assertEquals("0000:41:00.3", gpuNode.byCdev("vfio2").orElseThrow().address());
      assertEquals(
          "83b8f4f2-509f-382f-3c1e-e6bfe0fa1001", gpuNode.byCdev("vfio5").orElseThrow().address());
      assertEquals(
          List.of("0000:81:00.0", "0000:81:00.1"),
          gpuNode.inGroup("60").stream().map(VfioDevice::address).toList());
      // Group 13 is the A100 on nvidia: no VFIO fd can refer to it.
      assertEquals(List.of(), gpuNode.inGroup("13"));
    }
  }

  @Test
  void aCdevSysfsNamesCountsOnlyWithItsDeviceNode() throws Exception {
    try (NodeFixture node = NodeFixture.build("node-a")) {
      VfioDevices gpuNode = new VfioDevices(node.root());
      assertEquals(Optional.of("/dev/vfio/devices/vfio0"), gpuNode.find("0000:01:00.0").cdev());

      Files.delete(node.path("dev/vfio/devices/vfio0"));

      assertEquals(Optional.empty(), gpuNode.find("0000:01:00.0").cdev());
    }
  }

  @Test
  void aPathThatIsNotVfioIsRefusedNamingIt() {
    NotVfioDeviceException e =
        assertThrows(NotVfioDeviceException.class, () -> devices.find("/dev/null"));

    assertTrue(e.getMessage().startsWith("/dev/null is not a VFIO device"), e.getMessage());
  }

  @Test
  void aDeviceOfAnotherDriverIsRefusedNamingTheDriver() {
    NotVfioDeviceException e =
        assertThrows(NotVfioDeviceException.class, () -> devices.find("0000:00:02.0"));

    assertEquals(
        "0000:00:02.0 is bound to i915, not to vfio-pci or a VFIO variant driver", e.getMessage());
  }

  @Test
  void aDeviceWithoutDriverIsRefused() {
    assertEquals(
        "0000:00:03.0 is bound to no driver; bind it to vfio-pci first",
        assertThrows(NotVfioDeviceException.class, () -> devices.find("0000:00:03.0"))
            .getMessage());
    assertEquals(
        "mdev " + UNBOUND_MDEV + " is bound to no driver",
        assertThrows(NotVfioDeviceException.class, () -> devices.find(UNBOUND_MDEV)).getMessage());
  }

  @Test
  void anUnknownDeviceIsRefusedNamingIt() {
    assertEquals(
        "there is no PCI device 0000:99:00.0 on this node",
        assertThrows(NotVfioDeviceException.class, () -> devices.find("0000:99:00.0"))
            .getMessage());
    assertEquals(
        "there is no mdev device 00000000-0000-0000-0000-000000000000 on this node",
        assertThrows(
                NotVfioDeviceException.class,
                () -> devices.find("00000000-0000-0000-0000-000000000000"))
            .getMessage());
    assertEquals(
        "/dev/vfio/devices/vfio9: no such VFIO character device on this node",
        assertThrows(NotVfioDeviceException.class, () -> devices.find("/dev/vfio/devices/vfio9"))
            .getMessage());
  }

  @Test
  void aDeviceRemovedDuringTheScanIsLeftOut() throws Exception {
    // Hot-unplug leaves the bus link dangling until the kernel removes it.
    Path device = root.resolve("sys/devices/pci0000:00/0000:66:00.0");
    try (var files = Files.walk(device)) {
      for (Path file : files.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(file);
      }
    }

    assertEquals(
        List.of(
            "0000:65:00.0", "0000:67:00.0", "0000:68:00.0", "0000:69:00.0", "0000:6a:00.0", MDEV),
        devices.list().stream().map(VfioDevice::address).toList());
    assertTrue(Files.isSymbolicLink(root.resolve("sys/bus/pci/devices/0000:66:00.0")));
  }

  @Test
  void sysfsWithoutAPciBusIsAClearError() throws Exception {
    VfioDevices empty = new VfioDevices(root.resolve("elsewhere"));

    NoSuchFileException e = assertThrows(NoSuchFileException.class, empty::list);

    assertTrue(
        e.getMessage()
            .endsWith(
                "no PCI bus in sysfs: is the host's /sys mounted at "
                    + root.resolve("elsewhere/sys")
                    + "?"),
        e.getMessage());
  }
}
