package dev.vfio.operator.migration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vfio.api.v1alpha1.DeviceMapping;
import dev.vfio.api.v1alpha1.Reason;
import java.util.List;
import org.junit.jupiter.api.Test;

class DevicePairingTest {
  static final List<String> MIGRATABLE = List.of("STOP_COPY");

  @Test
  void withoutAMapDevicesPairByDriverThenAddress() {
    List<DevicePairing.Device> sources =
        List.of(gpu("0000:3c:00.0"), nic("0000:3b:00.0"), gpu("0000:3a:00.0"));
    List<DevicePairing.Device> targets =
        List.of(nic("0000:b0:00.0"), gpu("0000:af:00.0"), gpu("0000:ae:00.0"));

    DevicePairing.Outcome outcome = DevicePairing.pair(sources, targets, null);

    assertNull(outcome.rejection());
    assertEquals(
        List.of(
            "0000:3a:00.0>0000:ae:00.0", "0000:3c:00.0>0000:af:00.0", "0000:3b:00.0>0000:b0:00.0"),
        outcome.pairs().stream().map(p -> p.getSource() + ">" + p.getTarget()).toList());
  }

  @Test
  void aMapPairsAsTheUserSaid() {
    DevicePairing.Outcome outcome =
        DevicePairing.pair(
            List.of(gpu("0000:3a:00.0"), gpu("0000:3c:00.0")),
            List.of(gpu("0000:ae:00.0"), gpu("0000:af:00.0")),
            List.of(map("0000:3a:00.0", "0000:af:00.0"), map("0000:3c:00.0", "0000:ae:00.0")));

    assertEquals(
        List.of("0000:3a:00.0>0000:af:00.0", "0000:3c:00.0>0000:ae:00.0"),
        outcome.pairs().stream().map(p -> p.getSource() + ">" + p.getTarget()).toList());
  }

  @Test
  void aMapNamingADeviceTheSourceLacksIsRefusedListingWhatItHas() {
    DevicePairing.Outcome outcome =
        DevicePairing.pair(
            List.of(gpu("0000:3a:00.0")),
            List.of(gpu("0000:ae:00.0")),
            List.of(map("0000:99:00.0", "0000:ae:00.0")));

    assertEquals(Reason.DEVICE_NOT_HELD, outcome.rejection().reason());
    assertTrue(
        outcome.rejection().message().contains("[0000:3a:00.0]"), outcome.rejection().message());
    assertEquals(List.of(), outcome.pairs());
  }

  @Test
  void aMapNamingADeviceTheTargetDoesNotHoldIsRefused() {
    DevicePairing.Outcome outcome =
        DevicePairing.pair(
            List.of(gpu("0000:3a:00.0")),
            List.of(gpu("0000:ae:00.0")),
            List.of(map("0000:3a:00.0", "0000:99:00.0")));

    assertEquals(Reason.DEVICE_NOT_HELD, outcome.rejection().reason());
    assertTrue(
        outcome.rejection().message().startsWith("deviceMap target 0000:99:00.0"),
        outcome.rejection().message());
  }

  @Test
  void differentCountsWithoutAMapAreRefused() {
    DevicePairing.Outcome outcome =
        DevicePairing.pair(
            List.of(gpu("0000:3a:00.0"), gpu("0000:3c:00.0")),
            List.of(gpu("0000:ae:00.0")),
            List.of());

    assertEquals(Reason.INCOMPATIBLE_DEVICES, outcome.rejection().reason());
  }

  @Test
  void stateMovesOnlyBetweenTheSameDriverAndIdsWhateverTheirCase() {
    DevicePairing.Device upper =
        new DevicePairing.Device("0000:ae:00.0", "vfio-gpu", "10DE", "20B5", MIGRATABLE, null);
    assertNull(DevicePairing.pair(List.of(gpu("0000:3a:00.0")), List.of(upper), null).rejection());

    DevicePairing.Device other =
        new DevicePairing.Device("0000:ae:00.0", "vfio-gpu", "10de", "2330", MIGRATABLE, null);
    DevicePairing.Outcome outcome =
        DevicePairing.pair(List.of(gpu("0000:3a:00.0")), List.of(other), null);

    assertEquals(Reason.INCOMPATIBLE_DEVICES, outcome.rejection().reason());
    assertTrue(
        outcome.rejection().message().contains("vfio-gpu 10de:20b5"),
        outcome.rejection().message());
  }

  @Test
  void aTargetWithoutStopCopyCannotTakeState() {
    DevicePairing.Device plain =
        new DevicePairing.Device("0000:ae:00.0", "vfio-gpu", "10de", "20b5", List.of(), null);

    DevicePairing.Outcome outcome =
        DevicePairing.pair(List.of(gpu("0000:3a:00.0")), List.of(plain), null);

    assertEquals(Reason.DEVICE_NOT_MIGRATABLE, outcome.rejection().reason());
  }

  private static DevicePairing.Device gpu(String address) {
    return new DevicePairing.Device(address, "vfio-gpu", "10de", "20b5", MIGRATABLE, null);
  }

  private static DevicePairing.Device nic(String address) {
    return new DevicePairing.Device(address, "vfio-nic", "15b3", "101d", MIGRATABLE, null);
  }

  private static DeviceMapping map(String source, String target) {
    DeviceMapping mapping = new DeviceMapping();
    mapping.setSource(source);
    mapping.setTarget(target);
    return mapping;
  }
}
