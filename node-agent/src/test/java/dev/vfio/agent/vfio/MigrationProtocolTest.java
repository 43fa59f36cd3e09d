package dev.vfio.agent.vfio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.vfio.agent.inventory.MigrationInfo;
import dev.vfio.agent.sim.SimulatedDevice;
import dev.vfio.agent.sim.SimulatedDeviceSpec;
import dev.vfio.api.v1alpha1.Reason;
import java.io.IOException;
import java.lang.reflect.Proxy;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MigrationProtocolTest {
  static final String ADDRESS = "0000:65:00.0";
  static final MigrationFlags ALL =
      new MigrationFlags(MigrationFlags.STOP_COPY | MigrationFlags.P2P | MigrationFlags.PRE_COPY);

  @TempDir Path stateDir;

  SimulatedDevice device(SimulatedDeviceSpec spec) throws IOException {
    return new SimulatedDevice(spec, stateDir);
  }

  @Test
  void aDeviceThatAnswersMigrationWithStopCopySpeaksV2() throws Exception {
    SimulatedDevice device = device(SimulatedDeviceSpec.of(ADDRESS, 4096).withFlags(ALL));
    assertEquals(MigrationProtocol.V2, MigrationProtocol.of(device));
    assertEquals(Optional.empty(), MigrationProtocol.V2.notMigratableReason());
  }

  @Test
  void aDeviceWithOnlyTheV1MigrationRegionIsToldApartWithTheReason() throws Exception {
    SimulatedDevice device =
        device(
            SimulatedDeviceSpec.of(ADDRESS, 4096)
                .withFlags(MigrationFlags.NONE)
                .withV1MigrationRegion(true));

    assertEquals(MigrationProtocol.V1, MigrationProtocol.of(device));
    assertEquals(
        Optional.of(
            "MigrationProtocolV1: speaks the v1 migration region protocol, which vfio-operator"
                + " does not support; needs a kernel ≥ 5.18 with a v2 driver"),
        MigrationProtocol.V1.notMigratableReason());
    assertEquals(Optional.of(Reason.MIGRATION_PROTOCOL_V1), MigrationProtocol.V1.reason());
    assertEquals(
        new MigrationInfo(MigrationProtocol.V1, MigrationFlags.NONE, null, null),
        MigrationInfo.of(device),
        "a v1 device has no v2 flags, state or size to report");
  }

  @Test
  void aDeviceWithNeitherProtocolHasNoMigration() throws Exception {
    SimulatedDevice device =
        device(SimulatedDeviceSpec.of(ADDRESS, 4096).withFlags(MigrationFlags.NONE));
    assertEquals(MigrationProtocol.NONE, MigrationProtocol.of(device));
    assertEquals(
        new MigrationInfo(MigrationProtocol.NONE, MigrationFlags.NONE, null, null),
        MigrationInfo.of(device));
  }

  @Test
  void aV2DeviceKeepingAV1RegionBesideIsDrivenAsV2() throws Exception {
    SimulatedDevice device =
        device(SimulatedDeviceSpec.of(ADDRESS, 4096).withFlags(ALL).withV1MigrationRegion(true));
    assertEquals(MigrationProtocol.V2, MigrationProtocol.of(device));
    MigrationInfo info = MigrationInfo.of(device);
    assertEquals(ALL, info.flags());
    assertEquals(MigrationState.RUNNING, info.state());
  }

  @Test
  void aFailureOtherThanUnsupportedIsNotTakenForAnAnswer() {
    MigrationDevice failing =
        answering(
            method -> {
              throw new VfioException(ADDRESS, "GET MIGRATION", Errno.EIO, "");
            });
    VfioException e = assertThrows(VfioException.class, () -> MigrationProtocol.of(failing));
    assertEquals(Errno.EIO, e.error());
  }

  @Test
  void unsupportedMigrationWithAnEinvalStillLooksForTheV1Region() throws Exception {
    MigrationDevice v1 =
        answering(
            method ->
                switch (method) {
                  case "migrationFlags" ->
                      throw new VfioException(ADDRESS, "GET MIGRATION", Errno.EINVAL, "");
                  case "regionTypes" -> List.of(new RegionType(1, 1), RegionType.MIGRATION_V1);
                  default -> throw new AssertionError("unexpected call " + method);
                });
    assertEquals(MigrationProtocol.V1, MigrationProtocol.of(v1));
  }

  @FunctionalInterface
  interface Answer {
    Object answer(String method) throws VfioException;
  }

  /** A device whose every call is answered by {@code answer}, by method name. */
  static MigrationDevice answering(Answer answer) {
    return (MigrationDevice)
        Proxy.newProxyInstance(
            MigrationDevice.class.getClassLoader(),
            new Class<?>[] {MigrationDevice.class},
            (proxy, method, args) -> answer.answer(method.getName()));
  }
}
