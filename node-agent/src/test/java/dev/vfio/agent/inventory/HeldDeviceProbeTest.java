package dev.vfio.agent.inventory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vfio.agent.devices.DeviceDetails;
import dev.vfio.agent.devices.VfioDevice;
import dev.vfio.agent.pods.HeldDevice;
import dev.vfio.agent.pods.PodRef;
import dev.vfio.agent.sim.SimulatedDevices;
import dev.vfio.agent.vfio.MigrationFlags;
import dev.vfio.agent.vfio.MigrationProtocol;
import dev.vfio.agent.vfio.MigrationState;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HeldDeviceProbeTest {
  static final String HELD = "0000:3b:00.0";
  static final String FREE = "0000:3b:00.1";

  @Test
  void onlyDevicesAPodHoldsAreProbedAndThroughTheirHolder(@TempDir Path work) throws Exception {
    SimulatedDevices devices =
        SimulatedDevices.fromJson(
            "[{\"address\": \""
                + HELD
                + "\", \"stateBytes\": 4096},"
                + " {\"address\": \""
                + FREE
                + "\", \"stateBytes\": 4096}]",
            work);
    List<HeldDevice> opened = new ArrayList<>();
    HeldDeviceProbe probe =
        new HeldDeviceProbe(
            pod -> List.of(new HeldDevice(HELD, 4242, 7)),
            held -> {
              opened.add(held);
              return devices.open(held.address());
            });

    probe.resolve(new PodRef("default", "gpu-workload", "uid", Map.of()));
    var held = probe.probe(sysfs(HELD));
    var free = probe.probe(sysfs(FREE));

    assertTrue(held.isPresent());
    assertTrue(held.get().flags().stopCopy());
    assertEquals(MigrationState.RUNNING, held.get().state());
    assertTrue(free.isEmpty(), "a device nobody holds is never opened: vfio-pci would reset it");
    assertEquals(List.of(new HeldDevice(HELD, 4242, 7)), opened, "the holder's own fd is used");
  }

  @Test
  void aHeldDeviceSpeakingOnlyTheV1ProtocolIsReportedSo(@TempDir Path work) throws Exception {
    SimulatedDevices devices =
        SimulatedDevices.fromJson(
            "[{\"address\": \"" + HELD + "\", \"flags\": [], \"v1MigrationRegion\": true}]", work);
    HeldDeviceProbe probe =
        new HeldDeviceProbe(
            pod -> List.of(new HeldDevice(HELD, 4242, 7)), held -> devices.open(held.address()));
    probe.resolve(new PodRef("default", "legacy-vgpu", "uid", Map.of()));

    assertEquals(
        Optional.of(new MigrationInfo(MigrationProtocol.V1, MigrationFlags.NONE, null, null)),
        probe.probe(sysfs(HELD)));
  }

  private static VfioDevice sysfs(String address) {
    return new VfioDevice(
        address,
        VfioDevice.Kind.PCI,
        "vfio-pci",
        "10de",
        "2330",
        Optional.empty(),
        Optional.of("12"),
        Optional.of("/dev/vfio/12"),
        Optional.empty(),
        DeviceDetails.UNKNOWN);
  }
}
