package dev.vfio.agent.vfio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.vfio.agent.devices.DeviceDetails;
import dev.vfio.agent.devices.VfioDevice;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class DeviceIdentityTest {
  static VfioDevice mdev(String uuid, String type) {
    return new VfioDevice(
        uuid,
        VfioDevice.Kind.MDEV,
        "mtty",
        "",
        "",
        Optional.of(type),
        Optional.of("5"),
        Optional.of("/dev/vfio/5"),
        Optional.empty(),
        DeviceDetails.UNKNOWN);
  }

  @Test
  void aPciFunctionIsIdentifiedByItsDriverAndPciIds() {
    VfioDevice vf =
        new VfioDevice(
            "0000:41:00.2",
            VfioDevice.Kind.PCI,
            "mlx5_vfio_pci",
            "15b3",
            "101e",
            Optional.empty(),
            Optional.of("40"),
            Optional.of("/dev/vfio/40"),
            Optional.of("/dev/vfio/devices/vfio1"),
            DeviceDetails.UNKNOWN);

    assertEquals(
        new DeviceIdentity("0000:41:00.2", "mlx5_vfio_pci", "15b3", "101e", "40"),
        DeviceIdentity.of(vf));
  }

  @Test
  void anMdevIsIdentifiedByItsDriverAndType() {
    DeviceIdentity one = DeviceIdentity.of(mdev("b2c3d4e5-f6a7-4b8c-9d0e-1f2a3b4c5d6e", "mtty-1"));
    DeviceIdentity two = DeviceIdentity.of(mdev("c3d4e5f6-a7b8-4c9d-8e0f-2a3b4c5d6e7f", "mtty-2"));

    assertEquals(
        new DeviceIdentity("b2c3d4e5-f6a7-4b8c-9d0e-1f2a3b4c5d6e", "mtty", "", "mtty-1", "5"), one);
    assertFalse(one.compatibleWith(two), "state of a one-port mtty does not fit a two-port one");
  }

  @Test
  void aDeviceWithoutAnIommuGroupHasNone() {
    VfioDevice device =
        new VfioDevice(
            "0000:68:00.0",
            VfioDevice.Kind.PCI,
            "vfio-pci",
            "1af4",
            "1041",
            Optional.empty(),
            Optional.empty(),
            Optional.empty(),
            Optional.empty(),
            DeviceDetails.UNKNOWN);

    assertEquals(null, DeviceIdentity.of(device).iommuGroup());
  }
}
