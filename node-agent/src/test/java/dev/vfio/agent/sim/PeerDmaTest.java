package dev.vfio.agent.sim;

import static dev.vfio.agent.vfio.MigrationState.RESUMING;
import static dev.vfio.agent.vfio.MigrationState.RUNNING;
import static dev.vfio.agent.vfio.MigrationState.RUNNING_P2P;
import static dev.vfio.agent.vfio.MigrationState.STOP;
import static dev.vfio.agent.vfio.MigrationState.STOP_COPY;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vfio.agent.vfio.Errno;
import dev.vfio.agent.vfio.MigrationFlags;
import dev.vfio.agent.vfio.VfioException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PeerDmaTest {
  static final String A = "0000:65:00.0";
  static final String B = "0000:65:00.1";

  @TempDir Path stateDir;
  final PeerDma peerDma = new PeerDma();

  SimulatedDevice device(String address, MigrationFlags flags) throws IOException {
    return new SimulatedDevice(
        SimulatedDeviceSpec.of(address, 4096).withFlags(flags), stateDir, peerDma);
  }

  @Test
  void aDeviceOfAPodCannotStopWhileItsPeerStillInitiatesDma() throws Exception {
    SimulatedDevice a = device(A, MigrationFlags.fromNames(List.of("STOP_COPY", "P2P")));
    SimulatedDevice b = device(B, MigrationFlags.fromNames(List.of("STOP_COPY", "P2P")));
    peerDma.holdTogether(List.of(A, B));

    // One combination SET per device, as the agent issued them before: RUNNING_P2P -> STOP of
    // the first device runs while its peer is RUNNING.
    VfioException lost = assertThrows(VfioException.class, () -> a.setState(STOP_COPY));
    assertEquals(Errno.EIO, lost.error());
    assertTrue(lost.getMessage().contains(B + " (RUNNING)"), lost.getMessage());
    assertEquals(RUNNING_P2P, a.state(), "the walk stops before the refused arc");

    b.setState(RUNNING_P2P);
    a.setState(STOP_COPY).orElseThrow().close();
    b.setState(STOP_COPY).orElseThrow().close();

    a.setState(RUNNING_P2P);
    assertThrows(VfioException.class, () -> a.setState(RUNNING), "peer B does not answer yet");
    b.setState(RUNNING_P2P);
    a.setState(RUNNING);
    b.setState(RUNNING);
  }

  @Test
  void aPeerEnteringResumingWhileTheOtherRunsIsRefusedAndUnrelatedDevicesAreFree()
      throws Exception {
    SimulatedDevice a = device(A, MigrationFlags.fromNames(List.of("STOP_COPY", "P2P")));
    SimulatedDevice b = device(B, MigrationFlags.fromNames(List.of("STOP_COPY", "P2P")));

    a.setState(STOP);
    a.setState(RUNNING);

    peerDma.holdTogether(List.of(A, B));
    assertThrows(VfioException.class, () -> a.setState(RESUMING));
    b.setState(RUNNING_P2P);
    a.setState(RESUMING).orElseThrow().close();
  }

  @Test
  void devicesWithoutP2pAreNotGuarded() throws Exception {
    SimulatedDevice a = device(A, MigrationFlags.fromNames(List.of("STOP_COPY")));
    device(B, MigrationFlags.fromNames(List.of("STOP_COPY")));
    peerDma.holdTogether(List.of(A, B));

    a.setState(STOP_COPY).orElseThrow().close();
    assertEquals(STOP_COPY, a.state());
  }
}
