package dev.vfio.agent.pods;

import static dev.vfio.agent.fixtures.SysfsFixture.MDEV;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.vfio.agent.devices.NotVfioDeviceException;
import dev.vfio.agent.devices.VfioDevices;
import dev.vfio.agent.fixtures.NodeFixture;
import dev.vfio.agent.fixtures.SysfsFixture;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The device behind one fd an admin names, as {@code vfioctl --pid --fd} asks for it. */
class ProcessDevicesTest {
  @TempDir Path root;

  ProcessDevices processes() throws Exception {
    SysfsFixture.create(root);
    return new ProcessDevices(new VfioDevices(root), root.resolve("proc"));
  }

  @Test
  void aDeviceFdFromAGroupIsTheOnlyDeviceOfTheGroupsTheProcessHolds() throws Exception {
    assertEquals(MDEV, processes().heldBy(100, 5).address());
  }

  @Test
  void aDeviceFdIsNamedByItsFdinfoWhereTheKernelWritesIt() throws Exception {
    assertEquals("0000:65:00.0", processes().heldBy(200, 7).address());
  }

  @Test
  void aCdevFdNamesItsDevice() throws Exception {
    assertEquals("0000:66:00.0", processes().heldBy(300, 3).address());
  }

  @Test
  void anFdThatIsNotAVfioDeviceIsRefusedNamingWhatItIs() throws Exception {
    ProcessDevices processes = processes();
    assertEquals(
        "fd 6 of process 100 is /var/log/workload.log, not a VFIO device fd",
        assertThrows(NotVfioDeviceException.class, () -> processes.heldBy(100, 6)).getMessage());
    assertEquals(
        "fd 4 of process 100 is /dev/vfio/0, not a VFIO device fd",
        assertThrows(NotVfioDeviceException.class, () -> processes.heldBy(100, 4)).getMessage());
  }

  @Test
  void aMissingFdOrProcessIsRefusedNamingIt() throws Exception {
    ProcessDevices processes = processes();
    assertEquals(
        "process 100 has no fd 42",
        assertThrows(NotVfioDeviceException.class, () -> processes.heldBy(100, 42)).getMessage());
    assertEquals(
        "there is no process 999",
        assertThrows(NotVfioDeviceException.class, () -> processes.heldBy(999, 3)).getMessage());
  }

  @Test
  void aDeviceFdOfAGroupWithTwoDevicesIsAmbiguous() throws Exception {
    try (NodeFixture node = NodeFixture.build("node-a")) {
      ProcessDevices processes = new ProcessDevices(new VfioDevices(node.root()), node.proc());

      AmbiguousDeviceException e =
          assertThrows(AmbiguousDeviceException.class, () -> processes.heldBy(4410, 23));

      assertEquals(List.of("0000:81:00.0", "0000:81:00.1"), e.candidates());
      assertEquals(
          "fd 23 of process 4410 is a VFIO device opened through IOMMU group 60",
          e.getMessage().substring(0, e.getMessage().indexOf(',')));
    }
  }
}
