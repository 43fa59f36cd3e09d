package dev.vfio.agent.sim;

import static dev.vfio.agent.vfio.MigrationState.ERROR;
import static dev.vfio.agent.vfio.MigrationState.PRE_COPY;
import static dev.vfio.agent.vfio.MigrationState.PRE_COPY_P2P;
import static dev.vfio.agent.vfio.MigrationState.RESUMING;
import static dev.vfio.agent.vfio.MigrationState.RUNNING;
import static dev.vfio.agent.vfio.MigrationState.RUNNING_P2P;
import static dev.vfio.agent.vfio.MigrationState.STOP;
import static dev.vfio.agent.vfio.MigrationState.STOP_COPY;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vfio.agent.vfio.ArcTable;
import dev.vfio.agent.vfio.DataFd;
import dev.vfio.agent.vfio.Errno;
import dev.vfio.agent.vfio.MigrationFlags;
import dev.vfio.agent.vfio.MigrationState;
import dev.vfio.agent.vfio.PrecopyInfo;
import dev.vfio.agent.vfio.VfioException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

class SimulatedDeviceTest {
  static final String ADDRESS = "0000:65:00.0";
  static final MigrationFlags STOP_COPY_ONLY = new MigrationFlags(MigrationFlags.STOP_COPY);
  static final MigrationFlags WITH_P2P =
      new MigrationFlags(MigrationFlags.STOP_COPY | MigrationFlags.P2P);
  static final MigrationFlags WITH_PRE_COPY =
      new MigrationFlags(MigrationFlags.STOP_COPY | MigrationFlags.PRE_COPY);
  static final MigrationFlags ALL =
      new MigrationFlags(MigrationFlags.STOP_COPY | MigrationFlags.P2P | MigrationFlags.PRE_COPY);

  @TempDir Path stateDir;
  private int devicesMade;

  SimulatedDevice device(SimulatedDeviceSpec spec) throws IOException {
    // A directory per device, so that devices sharing an address within one test stay apart.
    return new SimulatedDevice(spec, stateDir.resolve("d" + devicesMade++));
  }

  SimulatedDevice device(MigrationFlags flags, long stateBytes) throws IOException {
    return device(SimulatedDeviceSpec.of(ADDRESS, stateBytes).withFlags(flags));
  }

  static MigrationFlags flags(String name) {
    return switch (name) {
      case "SC" -> STOP_COPY_ONLY;
      case "P2P" -> WITH_P2P;
      case "PC" -> WITH_PRE_COPY;
      case "ALL" -> ALL;
      default -> throw new IllegalArgumentException(name);
    };
  }

  static MigrationState state(String shortName) {
    return switch (shortName) {
      case "R" -> RUNNING;
      case "STOP" -> STOP;
      case "SC" -> STOP_COPY;
      case "RES" -> RESUMING;
      case "R_P2P" -> RUNNING_P2P;
      case "PC" -> PRE_COPY;
      case "PC_P2P" -> PRE_COPY_P2P;
      default -> throw new IllegalArgumentException(shortName);
    };
  }

  /** Moves a fresh device to {@code state}, loading valid data if that state is RESUMING. */
  static void bringTo(SimulatedDevice device, MigrationState state) throws VfioException {
    Optional<DataFd> fd = device.setState(state);
    if (state == RESUMING) {
      DataFds.writeAll(
          fd.orElseThrow(), DataFds.streamOf(SimulatedState.powerOn("donor", 512)), 100);
    }
    fd.ifPresent(DataFd::close);
  }

  static VfioException assertErrno(Errno errno, Executable call) {
    VfioException e = assertThrows(VfioException.class, call);
    assertEquals(errno, e.error(), e.getMessage());
    return e;
  }

  // The rows of the reference paths table that a device can start from without help, walked
  // by the device itself: a fault on each arc in turn must stop the walk exactly before it.
  @ParameterizedTest(name = "{1} with {0}")
  @CsvSource({
    "SC,  R>STOP>SC",
    "P2P, R>R_P2P>STOP>SC",
    "PC,  R>STOP>SC",
    "ALL, R>R_P2P>STOP>SC",
    "SC,  R>STOP>RES",
    "P2P, R>R_P2P>STOP>RES",
    "PC,  R>STOP>RES",
    "ALL, R>R_P2P>STOP>RES",
    "SC,  RES>STOP>R",
    "P2P, RES>STOP>R_P2P>R",
    "PC,  RES>STOP>R",
    "ALL, RES>STOP>R_P2P>R",
    "PC,  PC>SC",
    "ALL, PC>PC_P2P>SC",
    "SC,  SC>STOP>R",
    "P2P, SC>STOP>R_P2P>R",
    "PC,  SC>STOP>R",
    "ALL, SC>STOP>R_P2P>R",
    "PC,  PC>R>STOP>RES",
    "ALL, PC>R>R_P2P>STOP>RES",
  })
  void walksTheReferencePathOneArcAtATimeAndStopsAtAFailingArc(String flagName, String walk)
      throws Exception {
    MigrationFlags flags = flags(flagName);
    List<MigrationState> hops =
        Arrays.stream(walk.split(">")).map(SimulatedDeviceTest::state).toList();
    MigrationState from = hops.get(0);
    MigrationState to = hops.get(hops.size() - 1);
    for (int failing = 1; failing < hops.size(); failing++) {
      SimulatedDevice device = device(flags, 512);
      bringTo(device, from);
      MigrationState arcFrom = hops.get(failing - 1);
      device.setFaults(
          SimulatedFaults.NONE.withArcFault(arcFrom, hops.get(failing), Errno.EIO, false));
      VfioException e = assertErrno(Errno.EIO, () -> device.setState(to));
      assertEquals(arcFrom, device.state(), e.getMessage());
    }
    SimulatedDevice device = device(flags, 512);
    bringTo(device, from);
    device.setState(to).ifPresent(DataFd::close);
    assertEquals(to, device.state());
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource({"SC", "P2P"})
  void preCopyRequestsOnDevicesWithoutPreCopyAreEinval(String flagName) throws Exception {
    SimulatedDevice device = device(flags(flagName), 512);
    assertErrno(Errno.EINVAL, () -> device.setState(PRE_COPY));
    assertEquals(RUNNING, device.state());
  }

  static Stream<Arguments> everyRequestBetweenSupportedStates() {
    List<Arguments> requests = new ArrayList<>();
    for (MigrationFlags flags : List.of(STOP_COPY_ONLY, WITH_P2P, WITH_PRE_COPY, ALL)) {
      for (MigrationState from : MigrationState.values()) {
        for (MigrationState to : MigrationState.values()) {
          if (from != ERROR && to != ERROR && flags.supports(from) && flags.supports(to)) {
            requests.add(Arguments.of(flags.names(), from, to));
          }
        }
      }
    }
    return requests.stream();
  }

  @ParameterizedTest(name = "{0}: {1} -> {2}")
  @MethodSource("everyRequestBetweenSupportedStates")
  void returnsADataFdOnlyWhenTheFinalArcOpensASession(
      List<String> flagNames, MigrationState from, MigrationState to) throws Exception {
    MigrationFlags flags = MigrationFlags.fromNames(flagNames);
    SimulatedDevice device = device(flags, 512);
    bringTo(device, from);
    Optional<List<MigrationState>> path = ArcTable.path(from, to, flags);
    if (path.isEmpty()) {
      assertErrno(Errno.EINVAL, () -> device.setState(to));
      assertEquals(from, device.state());
      return;
    }
    List<MigrationState> hops = path.get();
    MigrationState lastFrom = hops.size() > 1 ? hops.get(hops.size() - 2) : from;
    boolean opens = !hops.isEmpty() && ArcTable.opensDataFd(lastFrom, to);
    Optional<DataFd> fd = device.setState(to);
    assertEquals(opens, fd.isPresent());
    assertEquals(to, device.state());
    fd.ifPresent(DataFd::close);
  }

  @Test
  void stopCopyReadsTheWholeStateThenZeroForGood() throws Exception {
    SimulatedDevice device = device(STOP_COPY_ONLY, 300_000);
    SimulatedState before = device.content();
    DataFd fd = device.setState(STOP_COPY).orElseThrow();
    long announced = device.stopCopySize().orElseThrow();
    byte[] stream = DataFds.readToEnd(fd);
    assertEquals(announced, stream.length);
    assertEquals(0, fd.read(ByteBuffer.allocate(10)));
    assertEquals(0, fd.read(ByteBuffer.allocate(10)));
    assertEquals(before.ranOnce(), device.content());
    assertEquals(device.content(), SimulatedState.read(new ByteArrayInputStream(stream)));
  }

  @Test
  void stopCopyToStopEndsTheSession() throws Exception {
    SimulatedDevice device = device(STOP_COPY_ONLY, 4096);
    DataFd fd = device.setState(STOP_COPY).orElseThrow();
    assertEquals(Optional.empty(), device.setState(STOP));
    assertErrno(Errno.ENODEV, () -> fd.read(ByteBuffer.allocate(10)));
  }

  @Test
  void resetEndsTheSessionAndLeavesTheDeviceRunning() throws Exception {
    SimulatedDevice device = device(STOP_COPY_ONLY, 4096);
    DataFd fd = device.setState(STOP_COPY).orElseThrow();
    device.reset();
    assertEquals(RUNNING, device.state());
    assertErrno(Errno.ENODEV, () -> fd.read(ByteBuffer.allocate(10)));
  }

  @Test
  void closingTheDeviceEndsTheSessionButKeepsTheState() throws Exception {
    SimulatedDevice device = device(STOP_COPY_ONLY, 4096);
    DataFd fd = device.setState(RESUMING).orElseThrow();
    device.close();
    assertErrno(Errno.ENODEV, () -> fd.write(ByteBuffer.allocate(10)));
    assertEquals(RESUMING, device.state());
  }

  @Test
  void dataFdsHaveTheKernelsDirectionAndCloseSemantics() throws Exception {
    SimulatedDevice saving = device(STOP_COPY_ONLY, 4096);
    DataFd save = saving.setState(STOP_COPY).orElseThrow();
    assertErrno(Errno.EBADF, () -> save.write(ByteBuffer.allocate(1)));
    save.close();
    assertErrno(Errno.EBADF, () -> save.read(ByteBuffer.allocate(1)));
    SimulatedDevice resuming = device(STOP_COPY_ONLY, 4096);
    DataFd load = resuming.setState(RESUMING).orElseThrow();
    assertErrno(Errno.EBADF, () -> load.read(ByteBuffer.allocate(1)));
    assertErrno(Errno.ENOTTY, load::precopyInfo);
  }

  @Test
  void preCopyOffersInitialBytesThenDirtyRoundsWithEnomsgAtTheTemporaryEnd() throws Exception {
    SimulatedDevice device =
        device(
            SimulatedDeviceSpec.of(ADDRESS, 64 * 1024).withFlags(ALL).withDirtyBytesPerRound(4096));
    DataFd fd = device.setState(PRE_COPY).orElseThrow();
    SimulatedState saved = device.content();
    PrecopyInfo first = fd.precopyInfo();
    assertEquals(saved.streamBytes() - StateStreamFormat.END_BYTES, first.initialBytes());
    assertEquals(0, first.dirtyBytes());

    byte[] initial = DataFds.readToTemporaryEnd(fd);
    assertEquals(first.initialBytes(), initial.length);

    PrecopyInfo second = fd.precopyInfo();
    assertEquals(new PrecopyInfo(0, StateStreamFormat.FRAME_HEADER_BYTES + 4096, false), second);
    byte[] dirty = DataFds.readToTemporaryEnd(fd);
    assertEquals(second.dirtyBytes(), dirty.length);

    assertEquals(Optional.empty(), device.setState(PRE_COPY_P2P));
    assertEquals(Optional.empty(), device.setState(STOP_COPY));
    assertErrno(Errno.EINVAL, fd::precopyInfo);
    byte[] rest = DataFds.readToEnd(fd);
    assertTrue(rest.length > 0, "STOP_COPY carries the dirtying after the last round");

    byte[] stream = DataFds.concat(initial, dirty, rest);
    assertEquals(saved, SimulatedState.read(new ByteArrayInputStream(stream)));
  }

  @Test
  void preCopyDeviceThatDirtiesNothingStaysAtTheTemporaryEnd() throws Exception {
    SimulatedDevice device = device(WITH_PRE_COPY, 8192);
    DataFd fd = device.setState(PRE_COPY).orElseThrow();
    DataFds.readToTemporaryEnd(fd);
    assertErrno(Errno.ENOMSG, () -> fd.read(ByteBuffer.allocate(10)));
    assertEquals(new PrecopyInfo(0, 0, false), fd.precopyInfo());
    assertErrno(Errno.ENOMSG, () -> fd.read(ByteBuffer.allocate(10)));
  }

  @Test
  void mttyStyleDeviceReturnsZeroAtThePreCopyTemporaryEnd() throws Exception {
    SimulatedDevice device =
        device(
            SimulatedDeviceSpec.of(ADDRESS, 8192)
                .withFlags(WITH_PRE_COPY)
                .withZeroAtPrecopyEnd(true));
    DataFd fd = device.setState(PRE_COPY).orElseThrow();
    byte[] initial = DataFds.readToTemporaryEnd(fd);
    assertEquals(0, fd.read(ByteBuffer.allocate(10)));
    assertEquals(Optional.empty(), device.setState(STOP_COPY));
    byte[] stream = DataFds.concat(initial, DataFds.readToEnd(fd));
    assertEquals(device.content(), SimulatedState.read(new ByteArrayInputStream(stream)));
  }

  @Test
  void preCopyToRunningEndsTheSessionAndTheDeviceKeepsRunning() throws Exception {
    SimulatedDevice device = device(WITH_PRE_COPY, 8192);
    DataFd fd = device.setState(PRE_COPY).orElseThrow();
    assertEquals(Optional.empty(), device.setState(RUNNING));
    assertErrno(Errno.ENODEV, fd::precopyInfo);
  }

  @Test
  void resumeTakesTheContentOfAStreamFromACompatibleDevice() throws Exception {
    SimulatedDevice source = device(STOP_COPY_ONLY, 8 << 20);
    byte[] stream = DataFds.readToEnd(source.setState(STOP_COPY).orElseThrow());
    SimulatedDevice target = device(SimulatedDeviceSpec.of("0000:17:00.1", 8 << 20));
    DataFd fd = target.setState(RESUMING).orElseThrow();
    DataFds.writeAll(fd, stream, 1_000_003);
    assertEquals(Optional.empty(), target.setState(RUNNING));
    assertEquals(source.content(), target.content());
    assertErrno(Errno.ENODEV, () -> fd.write(ByteBuffer.allocate(1)));
  }

  @Test
  void writesAreShortWhenOfferedMoreThanTheDeviceTakesAtOnce() throws Exception {
    SimulatedDevice device = device(STOP_COPY_ONLY, 4096);
    DataFd fd = device.setState(RESUMING).orElseThrow();
    ByteBuffer big = ByteBuffer.allocate(SimulatedDevice.MAX_WRITE_BYTES * 2);
    assertEquals(SimulatedDevice.MAX_WRITE_BYTES, fd.write(big));
    assertEquals(SimulatedDevice.MAX_WRITE_BYTES, big.position());
  }

  @Test
  void corruptResumeDataFailsTheArcLeavingResumingAndLeavesTheDeviceInError() throws Exception {
    byte[] stream = DataFds.streamOf(new SimulatedState("0000:17:00.1", 7, 10_000));
    stream[stream.length / 2] ^= 1;
    SimulatedDevice device = device(STOP_COPY_ONLY, 10_000);
    DataFds.writeAll(device.setState(RESUMING).orElseThrow(), stream, 4096);
    VfioException e = assertErrno(Errno.EINVAL, () -> device.setState(RUNNING));
    assertTrue(e.getMessage().contains("content differs"), e.getMessage());
    assertEquals(ERROR, device.state());
  }

  @Test
  void truncatedResumeDataFailsTheArcLeavingResuming() throws Exception {
    byte[] stream = DataFds.streamOf(new SimulatedState("0000:17:00.1", 7, 10_000));
    SimulatedDevice device = device(STOP_COPY_ONLY, 10_000);
    DataFds.writeAll(
        device.setState(RESUMING).orElseThrow(), Arrays.copyOf(stream, stream.length - 1), 4096);
    VfioException e = assertErrno(Errno.EINVAL, () -> device.setState(STOP));
    assertTrue(e.getMessage().contains("truncated"), e.getMessage());
    assertEquals(ERROR, device.state());
  }

  @Test
  void errorCanBeLeftOnlyByReset() throws Exception {
    SimulatedDevice device = device(ALL, 4096);
    SimulatedState before = device.content();
    device.setFaults(SimulatedFaults.NONE.withArcFault(RUNNING, RUNNING_P2P, Errno.EIO, true));
    assertErrno(Errno.EIO, () -> device.setState(STOP));
    assertEquals(ERROR, device.state());
    for (MigrationState target : MigrationState.values()) {
      if (target != ERROR) {
        assertErrno(Errno.EINVAL, () -> device.setState(target));
      }
    }
    device.reset();
    assertEquals(RUNNING, device.state());
    assertNotEquals(before.ranOnce(), device.content());
    assertEquals(SimulatedState.powerOn(ADDRESS, 4096), device.content());
  }

  @Test
  void requestingErrorIsEinval() throws Exception {
    SimulatedDevice device = device(ALL, 4096);
    assertErrno(Errno.EINVAL, () -> device.setState(ERROR));
    assertEquals(RUNNING, device.state());
  }

  @Test
  void deviceWithoutStopCopyAnswersEnottyToMigrationFeatures() throws Exception {
    SimulatedDevice device = device(MigrationFlags.NONE, 4096);
    assertErrno(Errno.ENOTTY, device::migrationFlags);
    assertErrno(Errno.ENOTTY, device::state);
    assertErrno(Errno.ENOTTY, () -> device.setState(STOP));
    assertErrno(Errno.ENOTTY, device::stopCopySize);
  }

  @Test
  void migDataSizeIsAbsentWhenSimulatingALinux61Kernel() throws Exception {
    SimulatedDevice device = device(SimulatedDeviceSpec.of(ADDRESS, 4096).withMigDataSize(false));
    assertEquals(OptionalLong.empty(), device.stopCopySize());
  }

  @Test
  void epochAdvancesEachTimeTheDeviceLeavesRunning() throws Exception {
    SimulatedDevice device = device(WITH_P2P, 4096);
    assertEquals(0, device.epoch());
    device.setState(STOP);
    assertEquals(1, device.epoch());
    device.setState(RUNNING);
    assertEquals(1, device.epoch());
    device.setState(RUNNING_P2P);
    device.setState(STOP);
    assertEquals(2, device.epoch());
  }

  @Test
  void sameAddressAndEpochSaveTheSameBytes() throws Exception {
    SimulatedDevice one = device(STOP_COPY_ONLY, 100_000);
    SimulatedDevice two = device(STOP_COPY_ONLY, 100_000);
    byte[] first = DataFds.readToEnd(one.setState(STOP_COPY).orElseThrow());
    byte[] second = DataFds.readToEnd(two.setState(STOP_COPY).orElseThrow());
    assertArrayEquals(first, second);
  }

  @Test
  void deviceLeftInStopCopyIsStillInStopCopyWhenCreatedAgain() throws Exception {
    SimulatedDeviceSpec spec = SimulatedDeviceSpec.of(ADDRESS, 4096);
    Path dir = stateDir.resolve("node");
    SimulatedDevice before = new SimulatedDevice(spec, dir);
    before.setState(STOP_COPY).orElseThrow().read(ByteBuffer.allocate(100));
    SimulatedState content = before.content();

    SimulatedDevice after = new SimulatedDevice(spec, dir);
    assertEquals(STOP_COPY, after.state());
    assertEquals(content, after.content());
    assertEquals(Optional.empty(), after.setState(STOP));
    after.setState(RUNNING);
    assertEquals(RUNNING, new SimulatedDevice(spec, dir).state());
  }

  @Test
  void deviceLeftInResumingLostItsDataWhenCreatedAgain() throws Exception {
    SimulatedDeviceSpec spec = SimulatedDeviceSpec.of(ADDRESS, 4096);
    Path dir = stateDir.resolve("node");
    SimulatedDevice before = new SimulatedDevice(spec, dir);
    DataFds.writeAll(
        before.setState(RESUMING).orElseThrow(),
        DataFds.streamOf(SimulatedState.powerOn("0000:17:00.1", 4096)),
        4096);

    SimulatedDevice after = new SimulatedDevice(spec, dir);
    assertEquals(RESUMING, after.state());
    assertErrno(Errno.EINVAL, () -> after.setState(RUNNING));
    assertEquals(ERROR, after.state());
  }

  @Test
  void injectedStreamFailureBreaksReadsWithEioAfterTheConfiguredBytes() throws Exception {
    SimulatedDevice device = device(STOP_COPY_ONLY, 100_000);
    device.setFaults(SimulatedFaults.NONE.withStreamFailureAfter(5000));
    DataFd fd = device.setState(STOP_COPY).orElseThrow();
    ByteBuffer buffer = ByteBuffer.allocate(64 * 1024);
    assertEquals(5000, fd.read(buffer));
    assertErrno(Errno.EIO, () -> fd.read(buffer.clear()));
  }

  @Test
  void injectedResumeRejectionFailsTheArcLeavingResumingWithEio() throws Exception {
    SimulatedDevice device = device(STOP_COPY_ONLY, 4096);
    DataFds.writeAll(
        device.setState(RESUMING).orElseThrow(),
        DataFds.streamOf(SimulatedState.powerOn("0000:17:00.1", 4096)),
        4096);
    device.setFaults(SimulatedFaults.NONE.withRejectedResumeData());
    assertErrno(Errno.EIO, () -> device.setState(RUNNING));
    assertEquals(ERROR, device.state());
  }

  @Test
  void refusedResumeWriteTakesNothingAndLeavesTheDeviceResuming() throws Exception {
    SimulatedDevice device = device(STOP_COPY_ONLY, 4096);
    DataFd fd = device.setState(RESUMING).orElseThrow();
    device.setFaults(SimulatedFaults.NONE.withResumeWritesRefusedAfter(100, Errno.ENOMEM));
    assertEquals(60, fd.write(ByteBuffer.allocate(60)));

    // Like mtty, the whole request is checked against the limit, not the part that would fit.
    ByteBuffer over = ByteBuffer.allocate(41);
    assertErrno(Errno.ENOMEM, () -> fd.write(over));
    assertEquals(0, over.position(), "a refused write takes no byte");
    assertEquals(RESUMING, device.state());
    assertEquals(40, fd.write(ByteBuffer.allocate(40)), "the session goes on after a refusal");

    device.reset();
    assertEquals(RUNNING, device.state());
  }

  @Test
  void slowStreamDeliversNoFasterThanTheConfiguredRate() throws Exception {
    SimulatedDevice device = device(STOP_COPY_ONLY, 20_000);
    device.setFaults(SimulatedFaults.NONE.withBytesPerSecond(100_000));
    DataFd fd = device.setState(STOP_COPY).orElseThrow();
    long start = System.nanoTime();
    byte[] stream = DataFds.readToEnd(fd);
    long elapsedMillis = (System.nanoTime() - start) / 1_000_000;
    long expectedMillis = stream.length * 1000L / 100_000;
    assertTrue(
        elapsedMillis >= expectedMillis * 9 / 10,
        "read " + stream.length + " bytes in " + elapsedMillis + " ms");
  }
}
