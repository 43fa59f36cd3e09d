package dev.vfio.agent.vfio;

import static dev.vfio.agent.vfio.SysfsFixture.MDEV;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VfioDeviceLookupTest {
  @TempDir
  Path root;

  VfioDeviceLookup lookup;

  @BeforeEach
  void node() throws Exception {
    lookup = new VfioDeviceLookup(SysfsFixture.create(root));
  }

  @Test
  void listsVariantDriverVfioPciAndMdevDevicesButNotOthers() throws Exception {
    List<String> addresses = lookup.list().stream().map(SysfsDevice::address).toList();

    assertEquals(List.of("0000:65:00.0", "0000:66:00.0", MDEV), addresses);
  }

  @Test
  void aPciDeviceCarriesItsDriverIdsAndGroup() throws Exception {
    SysfsDevice device = lookup.find("0000:65:00.0");

    assertEquals(SysfsDevice.Kind.PCI, device.kind());
    assertEquals(new DeviceIdentity("0000:65:00.0", "mlx5_vfio_pci", "15b3", "101e", "12"),
        device.identity());
    assertEquals(Optional.empty(), device.cdev());
  }

  @Test
  void anMdevCarriesItsTypeAsDeviceId() throws Exception {
    SysfsDevice device = lookup.find(MDEV.toUpperCase());

    assertEquals(SysfsDevice.Kind.MDEV, device.kind());
    assertEquals(new DeviceIdentity(MDEV, "vfio_mig_test", "", "vfio_mig_test-mem", "0"),
        device.identity());
    assertEquals(Optional.empty(), device.cdev(), "6.1 has vfio-dev/vfio0 but no cdev");
  }

  @Test
  void aShortPciAddressMeansDomainZero() throws Exception {
    assertEquals("0000:65:00.0", lookup.find("65:00.0").address());
  }

  @Test
  void aCdevPathNamesItsDevice() throws Exception {
    SysfsDevice device = lookup.find("/dev/vfio/devices/vfio3");

    assertEquals("0000:66:00.0", device.address());
    assertEquals(Optional.of("vfio3"), device.cdev());
  }

  @Test
  void aSysfsPathNamesItsDevice() throws Exception {
    assertEquals(MDEV, lookup.find("/sys/bus/mdev/devices/" + MDEV).address());
  }

  @Test
  void aGroupPathNamesTheOnlyVfioDeviceInIt() throws Exception {
    assertEquals(MDEV, lookup.find("/dev/vfio/0").address());
    // Group 13 also holds a device bound to i915, which is not VFIO's.
    assertEquals("0000:66:00.0", lookup.find("/dev/vfio/13").address());
  }

  @Test
  void aPathThatIsNotVfioIsRefusedNamingIt() {
    NotVfioDeviceException e =
        assertThrows(NotVfioDeviceException.class, () -> lookup.find("/dev/null"));

    assertTrue(e.getMessage().startsWith("/dev/null is not a VFIO device"), e.getMessage());
  }

  @Test
  void aDeviceOfAnotherDriverIsRefusedNamingTheDriver() {
    NotVfioDeviceException e =
        assertThrows(NotVfioDeviceException.class, () -> lookup.find("0000:00:02.0"));

    assertEquals("0000:00:02.0 is bound to i915, not to vfio-pci or a VFIO variant driver",
        e.getMessage());
  }

  @Test
  void aDeviceWithoutDriverIsRefused() {
    NotVfioDeviceException e =
        assertThrows(NotVfioDeviceException.class, () -> lookup.find("0000:00:03.0"));

    assertEquals("0000:00:03.0 is bound to no driver; bind it to vfio-pci first", e.getMessage());
  }

  @Test
  void anUnknownDeviceIsRefusedNamingIt() {
    assertEquals("there is no PCI device 0000:99:00.0 on this node",
        assertThrows(NotVfioDeviceException.class, () -> lookup.find("0000:99:00.0"))
            .getMessage());
    assertEquals("there is no mdev device 00000000-0000-0000-0000-000000000000 on this node",
        assertThrows(NotVfioDeviceException.class,
            () -> lookup.find("00000000-0000-0000-0000-000000000000")).getMessage());
  }

  @Test
  void aDeviceFdFromAGroupIsTheOnlyDeviceOfTheGroupsTheProcessHolds() throws Exception {
    assertEquals(MDEV, lookup.heldBy(100, 5).address());
  }

  @Test
  void aDeviceFdIsNamedByItsFdinfoWhereTheKernelWritesIt() throws Exception {
    assertEquals("0000:65:00.0", lookup.heldBy(200, 7).address());
  }

  @Test
  void aCdevFdNamesItsDevice() throws Exception {
    assertEquals("0000:66:00.0", lookup.heldBy(300, 3).address());
  }

  @Test
  void anFdThatIsNotAVfioDeviceIsRefusedNamingWhatItIs() {
    assertEquals("fd 6 of process 100 is /var/log/workload.log, not a VFIO device fd",
        assertThrows(NotVfioDeviceException.class, () -> lookup.heldBy(100, 6)).getMessage());
    assertEquals("fd 4 of process 100 is /dev/vfio/0, not a VFIO device fd",
        assertThrows(NotVfioDeviceException.class, () -> lookup.heldBy(100, 4)).getMessage());
  }

  @Test
  void aMissingFdOrProcessIsRefusedNamingIt() {
    assertEquals("process 100 has no fd 42",
        assertThrows(NotVfioDeviceException.class, () -> lookup.heldBy(100, 42)).getMessage());
    assertEquals("there is no process 999",
        assertThrows(NotVfioDeviceException.class, () -> lookup.heldBy(999, 3)).getMessage());
  }
}
