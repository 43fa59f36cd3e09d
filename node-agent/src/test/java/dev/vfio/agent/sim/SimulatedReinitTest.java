package dev.vfio.agent.sim;

import static dev.vfio.agent.vfio.MigrationState.PRE_COPY;
import static dev.vfio.agent.vfio.MigrationState.STOP_COPY;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vfio.agent.vfio.DataFd;
import dev.vfio.agent.vfio.Errno;
import dev.vfio.agent.vfio.MigrationFlags;
import dev.vfio.agent.vfio.PrecopyInfo;
import dev.vfio.agent.vfio.RegionType;
import dev.vfio.agent.vfio.VfioException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The simulated device against the 2026 uAPI: precopy info v2 (PROBE, the SET opt-in, its end at
 * the last close), a device re-initializing during PRE_COPY with REINIT, and a v1-only device.
 */
class SimulatedReinitTest {
  static final String ADDRESS = "0000:65:00.0";
  static final MigrationFlags WITH_PRE_COPY =
      new MigrationFlags(MigrationFlags.STOP_COPY | MigrationFlags.PRE_COPY);
  static final long IMAGE = 16 * 1024;

  @TempDir Path stateDir;
  private int devicesMade;

  SimulatedDevice device(SimulatedDeviceSpec spec) throws IOException {
    return new SimulatedDevice(spec, stateDir.resolve("d" + devicesMade++));
  }

  /** A PRE_COPY device that re-initializes at its second precopy info call. */
  SimulatedDeviceSpec reinitAtSecondCall() {
    return SimulatedDeviceSpec.of(ADDRESS, IMAGE)
        .withFlags(WITH_PRE_COPY)
        .withReinitOnPrecopyInfo(2);
  }

  static long reinitFrameBytes() {
    return Long.BYTES + StateStreamFormat.headerBytes(ADDRESS) + IMAGE;
  }

  @Test
  void precopyInfoV2IsOfferedOnlyWithPreCopyAndOnKernelsThatHaveIt() throws Exception {
    assertTrue(
        device(SimulatedDeviceSpec.of(ADDRESS, IMAGE).withFlags(WITH_PRE_COPY))
            .precopyInfoV2Supported());

    SimulatedDevice stopCopyOnly = device(SimulatedDeviceSpec.of(ADDRESS, IMAGE));
    assertFalse(stopCopyOnly.precopyInfoV2Supported());
    assertErrno(Errno.EINVAL, stopCopyOnly::enablePrecopyInfoV2);

    SimulatedDevice oldKernel =
        device(
            SimulatedDeviceSpec.of(ADDRESS, IMAGE)
                .withFlags(WITH_PRE_COPY)
                .withPrecopyInfoV2(false));
    assertFalse(oldKernel.precopyInfoV2Supported());
    assertErrno(Errno.ENOTTY, oldKernel::enablePrecopyInfoV2);

    SimulatedDevice noMigration =
        device(SimulatedDeviceSpec.of(ADDRESS, IMAGE).withFlags(MigrationFlags.NONE));
    assertErrno(Errno.ENOTTY, noMigration::precopyInfoV2Supported);
  }

  @Test
  void anOptedInDeviceRaisesReinitOnceWithItsNewInitialDataAsInitialBytes() throws Exception {
    SimulatedDevice device = device(reinitAtSecondCall());
    device.enablePrecopyInfoV2();
    DataFd fd = device.setState(PRE_COPY).orElseThrow();
    SimulatedState before = device.content();
    byte[] initial = DataFds.readToTemporaryEnd(fd);
    assertEquals(new PrecopyInfo(0, 0, false), fd.precopyInfo());

    PrecopyInfo reinit = fd.precopyInfo();

    assertEquals(new PrecopyInfo(reinitFrameBytes(), 0, true), reinit);
    SimulatedState after = device.content();
    assertEquals(before.ranOnce(), after, "re-initialized: the device holds new content");
    byte[] again = DataFds.readToTemporaryEnd(fd);
    assertEquals(reinitFrameBytes(), again.length);
    assertEquals(new PrecopyInfo(0, 0, false), fd.precopyInfo(), "raised once");

    device.setState(STOP_COPY);
    byte[] stream = DataFds.concat(initial, again, DataFds.readToEnd(fd));
    assertEquals(after, SimulatedState.read(new ByteArrayInputStream(stream)));
  }

  @Test
  void whatIsQueuedBeforeTheNewInitialDataCountsAsInitialToo() throws Exception {
    SimulatedDevice device = device(reinitAtSecondCall().withDirtyBytesPerRound(4096));
    device.enablePrecopyInfoV2();
    DataFd fd = device.setState(PRE_COPY).orElseThrow();
    DataFds.readToTemporaryEnd(fd);
    long dirt = StateStreamFormat.FRAME_HEADER_BYTES + 4096;
    assertEquals(new PrecopyInfo(0, dirt, false), fd.precopyInfo(), "it dirtied a round since");
    assertEquals(10, fd.read(ByteBuffer.allocate(10)));

    PrecopyInfo reinit = fd.precopyInfo();

    assertEquals(
        new PrecopyInfo(dirt - 10 + reinitFrameBytes(), 0, true),
        reinit,
        "the reader must get through the dirt queued before it to reach the new initial data");
  }

  @Test
  void withoutTheOptInTheNewDataIsReportedAsDirtyAndNoFlagIsRaised() throws Exception {
    SimulatedDevice device = device(reinitAtSecondCall());
    DataFd fd = device.setState(PRE_COPY).orElseThrow();
    byte[] initial = DataFds.readToTemporaryEnd(fd);
    fd.precopyInfo();

    assertEquals(
        new PrecopyInfo(0, reinitFrameBytes(), false),
        fd.precopyInfo(),
        "a v1 reader's initial bytes only ever go down");
    byte[] again = DataFds.readToTemporaryEnd(fd);
    device.setState(STOP_COPY);
    byte[] stream = DataFds.concat(initial, again, DataFds.readToEnd(fd));
    assertEquals(device.content(), SimulatedState.read(new ByteArrayInputStream(stream)));
  }

  @Test
  void theOptInEndsWithTheLastCloseOfTheDevice() throws Exception {
    SimulatedDevice device = device(reinitAtSecondCall());
    device.enablePrecopyInfoV2();
    device.close();
    DataFd fd = device.setState(PRE_COPY).orElseThrow();
    DataFds.readToTemporaryEnd(fd);
    fd.precopyInfo();
    assertFalse(fd.precopyInfo().reinit());
  }

  @Test
  void aStreamMissingTheReinitFrameIsRefused() throws Exception {
    SimulatedDevice device = device(reinitAtSecondCall());
    device.enablePrecopyInfoV2();
    DataFd fd = device.setState(PRE_COPY).orElseThrow();
    SimulatedState before = device.content();
    byte[] initial = DataFds.readToTemporaryEnd(fd);
    fd.precopyInfo();
    fd.precopyInfo();
    byte[] reinitFrame = DataFds.readToTemporaryEnd(fd);
    device.setState(STOP_COPY);
    byte[] rest = DataFds.readToEnd(fd);

    assertNotEquals(before, device.content());
    // The end marker counts the bytes before it, so a stream without the frame is refused.
    byte[] withoutFrame = DataFds.concat(initial, rest);
    assertThrows(
        MalformedStateException.class,
        () -> SimulatedState.read(new ByteArrayInputStream(withoutFrame)));
    assertEquals(reinitFrameBytes(), reinitFrame.length);
  }

  @Test
  void aReinitFrameOfAnotherDeviceIsRefused() throws Exception {
    SimulatedState mine = SimulatedState.powerOn(ADDRESS, IMAGE);
    SimulatedState other = SimulatedState.powerOn("0000:17:00.1", IMAGE);
    SaveSession session = new SaveSession(mine, 0, false);
    session.reinit(other, true);
    session.enterStopCopy();
    ByteBuffer stream = ByteBuffer.allocate((int) session.stopCopyRemaining());
    while (session.produce(stream, stream.remaining()) > 0) {
      // Drains the whole session into the buffer.
    }

    MalformedStateException e =
        assertThrows(
            MalformedStateException.class,
            () ->
                SimulatedState.read(
                    new ByteArrayInputStream(stream.array(), 0, stream.position())));
    assertTrue(
        e.getMessage().contains("reinit frame holds content of 0000:17:00.1"), e.getMessage());
  }

  @Test
  void aV1OnlyDeviceHasTheV1MigrationRegionAndNoV2Migration() throws Exception {
    SimulatedDevice v1 =
        device(
            SimulatedDeviceSpec.of(ADDRESS, IMAGE)
                .withFlags(MigrationFlags.NONE)
                .withV1MigrationRegion(true));
    assertEquals(List.of(RegionType.MIGRATION_V1), v1.regionTypes());
    assertErrno(Errno.ENOTTY, v1::migrationFlags);

    assertEquals(List.of(), device(SimulatedDeviceSpec.of(ADDRESS, IMAGE)).regionTypes());
  }

  interface Call {
    void run() throws VfioException;
  }

  static void assertErrno(Errno expected, Call call) {
    VfioException e = assertThrows(VfioException.class, call::run);
    assertEquals(expected, e.error(), e.getMessage());
  }
}
