package dev.vfio.agent.vfio;

import static dev.vfio.agent.vfio.MigrationState.ERROR;
import static dev.vfio.agent.vfio.MigrationState.PRE_COPY;
import static dev.vfio.agent.vfio.MigrationState.PRE_COPY_P2P;
import static dev.vfio.agent.vfio.MigrationState.RESUMING;
import static dev.vfio.agent.vfio.MigrationState.RUNNING;
import static dev.vfio.agent.vfio.MigrationState.RUNNING_P2P;
import static dev.vfio.agent.vfio.MigrationState.STOP;
import static dev.vfio.agent.vfio.MigrationState.STOP_COPY;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vfio.agent.sim.SimulatedDevice;
import dev.vfio.agent.sim.SimulatedDeviceSpec;
import dev.vfio.agent.sim.SimulatedFaults;
import dev.vfio.agent.sim.SimulatedState;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class MigrationStateMachineTest {
  static final String SOURCE = "0000:65:00.0";
  static final String TARGET = "0000:17:00.1";
  static final MigrationFlags WITH_P2P =
      new MigrationFlags(MigrationFlags.STOP_COPY | MigrationFlags.P2P);
  static final MigrationFlags ALL =
      new MigrationFlags(MigrationFlags.STOP_COPY | MigrationFlags.P2P | MigrationFlags.PRE_COPY);

  @TempDir Path stateDir;

  SimulatedDevice device(SimulatedDeviceSpec spec) throws IOException {
    return new SimulatedDevice(spec, stateDir.resolve(spec.address().replace(':', '_')));
  }

  /** A sink that keeps everything, and the size of every chunk it was handed. */
  static final class Collector implements ChunkSink {
    final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    final List<Integer> chunks = new ArrayList<>();

    @Override
    public void write(ByteBuffer chunk) {
      chunks.add(chunk.remaining());
      byte[] copy = new byte[chunk.remaining()];
      chunk.get(copy);
      bytes.write(copy, 0, copy.length);
    }

    SimulatedState state() throws IOException {
      return SimulatedState.read(new ByteArrayInputStream(bytes.toByteArray()));
    }
  }

  static byte[] save(MigrationStateMachine machine) throws IOException {
    machine.transition(STOP_COPY);
    Collector collector = new Collector();
    machine.readToEnd(collector, MigrationStateMachine.Progress.NONE);
    machine.transition(STOP);
    return collector.bytes.toByteArray();
  }

  static void restore(MigrationStateMachine machine, byte[] stream) throws IOException {
    machine.transition(RESUMING);
    machine.writeAll(ByteBuffer.wrap(stream));
    machine.transition(RUNNING);
  }

  /** A sink that lends buffers of an odd size, partly filled already, and keeps what they got. */
  static final class Lender implements ChunkSink {
    final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    final List<Integer> filled = new ArrayList<>();
    private final ByteBuffer buffer = ByteBuffer.allocateDirect(300_001);

    @Override
    public void write(ByteBuffer chunk) {
      throw new AssertionError("a lending sink got a copy");
    }

    @Override
    public ByteBuffer lend() {
      // Lent with a few bytes in it, as a blob chunk half filled by an earlier write would be.
      return buffer.clear().position(7);
    }

    @Override
    public void lentFilled(ByteBuffer lent) {
      assertTrue(lent == buffer);
      int bytes = lent.position() - 7;
      filled.add(bytes);
      byte[] copy = new byte[bytes];
      lent.get(7, copy);
      this.bytes.write(copy, 0, bytes);
    }
  }

  @Test
  void stopCopyReadsStraightIntoTheBuffersASinkLends() throws Exception {
    SimulatedDevice source = device(SimulatedDeviceSpec.of(SOURCE, 3 << 20).withFlags(ALL));
    MigrationStateMachine saving = MigrationStateMachine.probe(source);
    saving.transition(STOP_COPY);
    Lender lender = new Lender();
    long total = saving.readToEnd(lender, MigrationStateMachine.Progress.NONE);
    saving.transition(RUNNING);

    assertEquals(lender.bytes.size(), total);
    assertTrue(
        lender.filled.stream().allMatch(n -> n > 0 && n <= 300_001 - 7), lender.filled::toString);
    SimulatedDevice target = device(SimulatedDeviceSpec.of(TARGET, 3 << 20).withFlags(ALL));
    MigrationStateMachine resuming = MigrationStateMachine.probe(target);
    restore(resuming, lender.bytes.toByteArray());
    assertEquals(source.content(), target.content());
  }

  @Test
  void stopCopySaveRestoresTheSameContentIntoACompatibleDevice() throws Exception {
    SimulatedDevice source = device(SimulatedDeviceSpec.of(SOURCE, 8 << 20).withFlags(ALL));
    MigrationStateMachine saving = MigrationStateMachine.probe(source);
    saving.transition(STOP_COPY);
    Collector collector = new Collector();
    List<Integer> progress = new ArrayList<>();
    long total = saving.readToEnd(collector, progress::add);
    saving.transition(RUNNING);
    SimulatedState saved = collector.state();
    assertEquals(SOURCE, saved.origin());
    assertEquals(1, saved.epoch());
    assertEquals(collector.bytes.size(), total);
    assertEquals(collector.chunks, progress);
    assertTrue(
        collector.chunks.stream().allMatch(size -> size <= 1 << 20), collector.chunks::toString);

    SimulatedDevice target = device(SimulatedDeviceSpec.of(TARGET, 8 << 20).withFlags(ALL));
    MigrationStateMachine resuming = MigrationStateMachine.probe(target);
    ByteBuffer stream = ByteBuffer.wrap(collector.bytes.toByteArray());
    resuming.transition(RESUMING);
    // The simulated device takes at most 256 KiB per write: this one call must loop.
    resuming.writeAll(stream);
    assertFalse(stream.hasRemaining());
    resuming.transition(RUNNING);
    assertEquals(saved, target.content());
    assertEquals(saved.epoch(), target.epoch());
    assertFalse(resuming.hasDataFd());
  }

  @Test
  void readBufferIsNoLargerThanTheStopCopyLength() throws Exception {
    SimulatedDevice device = device(SimulatedDeviceSpec.of(SOURCE, 100_000));
    MigrationStateMachine machine = MigrationStateMachine.probe(device);
    machine.transition(STOP_COPY);
    long announced = device.stopCopySize().orElseThrow();
    Collector collector = new Collector();
    machine.readToEnd(collector, MigrationStateMachine.Progress.NONE);
    assertEquals(List.of((int) announced), collector.chunks);
  }

  @Test
  void readBufferIsOneMebibyteWithoutMigDataSize() throws Exception {
    SimulatedDevice device = device(SimulatedDeviceSpec.of(SOURCE, 3 << 20).withMigDataSize(false));
    MigrationStateMachine machine = MigrationStateMachine.probe(device);
    machine.transition(STOP_COPY);
    Collector collector = new Collector();
    machine.readToEnd(collector, MigrationStateMachine.Progress.NONE);
    int tail = collector.bytes.size() - (3 << 20);
    assertEquals(List.of(1 << 20, 1 << 20, 1 << 20, tail), collector.chunks);
  }

  @ParameterizedTest(name = "zero at the temporary end: {0}")
  @ValueSource(booleans = {false, true})
  void preCopyRoundsThenStopCopyGiveALoadableStreamWhetherTheDeviceSignalsEnomsgOrZero(
      boolean zeroAtPrecopyEnd) throws Exception {
    SimulatedDevice source =
        device(
            SimulatedDeviceSpec.of(SOURCE, 2 << 20)
                .withFlags(ALL)
                .withDirtyBytesPerRound(64 * 1024)
                .withZeroAtPrecopyEnd(zeroAtPrecopyEnd));
    MigrationStateMachine saving = MigrationStateMachine.probe(source);
    saving.transition(PRE_COPY);
    Collector collector = new Collector();

    PrecopyRound first =
        saving.readPrecopy(collector, Long.MAX_VALUE, MigrationStateMachine.Progress.NONE);
    assertTrue(first.drained());
    assertEquals(source.content().streamBytes() - 16, first.bytes());
    PrecopyInfo afterFirst = first.remaining().orElseThrow();
    assertEquals(0, afterFirst.initialBytes());
    assertTrue(afterFirst.dirtyBytes() > 64 * 1024, afterFirst::toString);

    PrecopyRound second =
        saving.readPrecopy(collector, Long.MAX_VALUE, MigrationStateMachine.Progress.NONE);
    assertTrue(second.drained());
    assertEquals(afterFirst.dirtyBytes(), second.bytes());

    PrecopyRound capped = saving.readPrecopy(collector, 1000, MigrationStateMachine.Progress.NONE);
    assertFalse(capped.drained());
    assertEquals(1000, capped.bytes());

    saving.transition(STOP_COPY);
    saving.readToEnd(collector, MigrationStateMachine.Progress.NONE);
    saving.transition(STOP);
    assertEquals(source.content(), collector.state());

    SimulatedDevice target = device(SimulatedDeviceSpec.of(TARGET, 2 << 20).withFlags(ALL));
    restore(MigrationStateMachine.probe(target), collector.bytes.toByteArray());
    assertEquals(source.content(), target.content());
  }

  @Test
  void injectedArcFailureIntoErrorIsRecoveredByReset() throws Exception {
    SimulatedDevice device = device(SimulatedDeviceSpec.of(SOURCE, 4096).withFlags(ALL));
    device.setFaults(SimulatedFaults.NONE.withArcFault(STOP, STOP_COPY, Errno.EIO, true));
    MigrationStateMachine machine = MigrationStateMachine.probe(device);
    VfioException e = assertThrows(VfioException.class, () -> machine.transition(STOP_COPY));
    assertFalse(e instanceof StateRejectedException);
    assertTrue(
        e.getMessage().startsWith(SOURCE + ": RUNNING -> STOP_COPY failed: EIO"), e.getMessage());
    assertTrue(e.getMessage().contains("device left in ERROR"), e.getMessage());
    assertEquals(ERROR, device.state());

    Recovery recovery = machine.recoverToRunning();
    assertEquals(Recovery.Action.RESET, recovery.action());
    assertEquals(Optional.of(ERROR), recovery.found());
    assertTrue(recovery.deviceStateLost());
    assertEquals("device reset from ERROR to RUNNING", recovery.describe());
    assertEquals(RUNNING, device.state());
  }

  @Test
  void arcFailureOutsideErrorIsRecoveredWithASetAndKeepsTheDeviceState() throws Exception {
    SimulatedDevice device = device(SimulatedDeviceSpec.of(SOURCE, 4096).withFlags(WITH_P2P));
    device.setFaults(SimulatedFaults.NONE.withArcFault(RUNNING_P2P, STOP, Errno.EAGAIN, false));
    MigrationStateMachine machine = MigrationStateMachine.probe(device);
    VfioException e = assertThrows(VfioException.class, () -> machine.transition(STOP_COPY));
    assertEquals(Errno.EAGAIN, e.error());
    assertTrue(e.getMessage().contains("device left in RUNNING_P2P"), e.getMessage());
    SimulatedState content = device.content();

    device.setFaults(SimulatedFaults.NONE);
    Recovery recovery = machine.recoverToRunning();
    assertEquals(Recovery.Action.SET_RUNNING, recovery.action());
    assertEquals(Optional.of(RUNNING_P2P), recovery.found());
    assertEquals("device moved from RUNNING_P2P back to RUNNING", recovery.describe());
    assertEquals(RUNNING, device.state());
    assertEquals(content, device.content());
  }

  @Test
  void setFailingDuringRecoveryFallsBackToReset() throws Exception {
    SimulatedDevice device = device(SimulatedDeviceSpec.of(SOURCE, 4096));
    MigrationStateMachine machine = MigrationStateMachine.probe(device);
    machine.transition(STOP);
    device.setFaults(SimulatedFaults.NONE.withArcFault(STOP, RUNNING_P2P, Errno.EIO, false));
    Recovery recovery = machine.recoverToRunning();
    assertEquals(Recovery.Action.RESET, recovery.action());
    assertEquals(Errno.EIO, recovery.cause().orElseThrow().error());
    assertEquals(RUNNING, device.state());
  }

  @Test
  void corruptedResumeDataIsRejectedOnLeavingResumingAndRecoveredByReset() throws Exception {
    byte[] stream =
        save(MigrationStateMachine.probe(device(SimulatedDeviceSpec.of(SOURCE, 100_000))));
    stream[stream.length / 2] ^= 0x20;
    SimulatedDevice target = device(SimulatedDeviceSpec.of(TARGET, 100_000));
    MigrationStateMachine machine = MigrationStateMachine.probe(target);
    machine.transition(RESUMING);
    machine.writeAll(ByteBuffer.wrap(stream));
    VfioException e = assertThrows(VfioException.class, () -> machine.transition(RUNNING));
    assertInstanceOf(StateRejectedException.class, e);
    assertEquals(Errno.EINVAL, e.error());
    assertTrue(
        e.getMessage().startsWith(TARGET + ": RESUMING -> RUNNING failed: EINVAL"), e.getMessage());
    assertTrue(e.getMessage().contains("content differs"), e.getMessage());
    assertEquals(ERROR, target.state());

    assertEquals(Recovery.Action.RESET, machine.recoverToRunning().action());
    assertEquals(RUNNING, target.state());
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"ENOSPC", "ENOMEM", "EINVAL", "EFAULT"})
  void stateTheDeviceRefusesOnWriteIsRejectedAndRecoveredByReset(String errno) throws Exception {
    byte[] stream =
        save(MigrationStateMachine.probe(device(SimulatedDeviceSpec.of(SOURCE, 100_000))));
    SimulatedDevice target = device(SimulatedDeviceSpec.of(TARGET, 100_000));
    MigrationStateMachine machine = MigrationStateMachine.probe(target);
    machine.transition(RESUMING);
    target.setFaults(SimulatedFaults.NONE.withResumeWritesRefusedAfter(1000, Errno.valueOf(errno)));

    VfioException e =
        assertThrows(VfioException.class, () -> machine.writeAll(ByteBuffer.wrap(stream)));

    assertInstanceOf(StateRejectedException.class, e);
    assertEquals(Errno.valueOf(errno), e.error());
    assertTrue(
        e.getMessage().startsWith(TARGET + ": write data_fd failed: " + errno), e.getMessage());
    assertEquals(RESUMING, target.state(), "a refused write leaves the session to a reset");
    assertEquals(Recovery.Action.RESET, machine.recoverToRunning().action());
    assertEquals(RUNNING, target.state());
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"EIO", "ENODEV"})
  void aWriteThatFailsForAnotherReasonIsADeviceError(String errno) throws Exception {
    SimulatedDevice target = device(SimulatedDeviceSpec.of(TARGET, 100_000));
    MigrationStateMachine machine = MigrationStateMachine.probe(target);
    machine.transition(RESUMING);
    target.setFaults(SimulatedFaults.NONE.withResumeWritesRefusedAfter(0, Errno.valueOf(errno)));

    VfioException e =
        assertThrows(VfioException.class, () -> machine.writeAll(ByteBuffer.allocate(10)));

    assertFalse(e instanceof StateRejectedException, e.getMessage());
    assertEquals(Errno.valueOf(errno), e.error());
  }

  @Test
  void failureAfterTheDeviceAcceptedTheDataIsNotARejection() throws Exception {
    byte[] stream =
        save(
            MigrationStateMachine.probe(
                device(SimulatedDeviceSpec.of(SOURCE, 10_000).withFlags(WITH_P2P))));
    SimulatedDevice target = device(SimulatedDeviceSpec.of(TARGET, 10_000).withFlags(WITH_P2P));
    MigrationStateMachine machine = MigrationStateMachine.probe(target);
    machine.transition(RESUMING);
    machine.writeAll(ByteBuffer.wrap(stream));
    target.setFaults(SimulatedFaults.NONE.withArcFault(STOP, RUNNING_P2P, Errno.EIO, false));
    VfioException e = assertThrows(VfioException.class, () -> machine.transition(RUNNING));
    assertFalse(e instanceof StateRejectedException, e.getMessage());
    assertEquals(STOP, target.state());
    assertEquals(SOURCE, target.content().origin());
  }

  @Test
  void stopCopyToPreCopyIsRefusedBeforeItReachesTheDevice() throws Exception {
    RecordingDevice device =
        new RecordingDevice(device(SimulatedDeviceSpec.of(SOURCE, 4096).withFlags(ALL)));
    MigrationStateMachine machine = MigrationStateMachine.probe(device);
    machine.transition(STOP_COPY);
    int setsBefore = device.sets.size();
    for (MigrationState target : List.of(PRE_COPY, PRE_COPY_P2P)) {
      VfioException e = assertThrows(VfioException.class, () -> machine.transition(target));
      assertEquals(Errno.EINVAL, e.error());
      assertTrue(
          e.getMessage().startsWith(SOURCE + ": STOP_COPY -> " + target + " failed"),
          e.getMessage());
    }
    assertEquals(setsBefore, device.sets.size());
    assertEquals(STOP_COPY, device.state());
    assertTrue(machine.hasDataFd());
  }

  @Test
  void sessionEndingArcClosesTheHeldDataFd() throws Exception {
    RecordingDevice device = new RecordingDevice(device(SimulatedDeviceSpec.of(SOURCE, 4096)));
    MigrationStateMachine machine = MigrationStateMachine.probe(device);
    machine.transition(STOP_COPY);
    RecordingDataFd fd = device.fds.get(0);
    machine.transition(RUNNING);
    assertTrue(fd.closed);
    assertFalse(machine.hasDataFd());
  }

  @Test
  void preCopyToResumingSwapsTheSavingFdForTheResumingOne() throws Exception {
    RecordingDevice device =
        new RecordingDevice(device(SimulatedDeviceSpec.of(SOURCE, 4096).withFlags(ALL)));
    MigrationStateMachine machine = MigrationStateMachine.probe(device);
    machine.transition(PRE_COPY);
    machine.transition(RESUMING);
    assertEquals(2, device.fds.size());
    assertTrue(device.fds.get(0).closed);
    assertFalse(device.fds.get(1).closed);
    machine.close();
    assertTrue(device.fds.get(1).closed);
  }

  @Test
  void newDataFdWhileOneIsHeldIsOutOfSync() throws Exception {
    RecordingDevice device = new RecordingDevice(device(SimulatedDeviceSpec.of(SOURCE, 4096)));
    MigrationStateMachine machine = MigrationStateMachine.probe(device);
    machine.transition(STOP_COPY);
    // A reset nobody asked for (an FLR, a hot reset) ends the session under our feet.
    device.reset();
    VfioException e = assertThrows(VfioException.class, () -> machine.transition(STOP_COPY));
    assertEquals(Errno.EBADF, e.error());
    assertTrue(e.getMessage().contains("data_fd out of sync"), e.getMessage());
    assertTrue(device.fds.get(1).closed, "the new fd is closed");

    assertEquals(Recovery.Action.SET_RUNNING, machine.recoverToRunning().action());
    assertTrue(device.fds.get(0).closed);
    assertEquals(RUNNING, device.state());
  }

  @Test
  void recoveryFromResumingResetsRatherThanLoadingPartialData() throws Exception {
    SimulatedDevice device = device(SimulatedDeviceSpec.of(TARGET, 4096));
    MigrationStateMachine machine = MigrationStateMachine.probe(device);
    machine.transition(RESUMING);
    machine.writeAll(ByteBuffer.allocate(10));
    Recovery recovery = machine.recoverToRunning();
    assertEquals(Recovery.Action.RESET, recovery.action());
    assertEquals(Optional.empty(), recovery.cause());
    assertEquals(RUNNING, device.state());
  }

  @Test
  void recoveryOfARunningDeviceDoesNothing() throws Exception {
    SimulatedDevice device = device(SimulatedDeviceSpec.of(SOURCE, 4096));
    SimulatedState content = device.content();
    Recovery recovery = MigrationStateMachine.probe(device).recoverToRunning();
    assertEquals(Recovery.Action.ALREADY_RUNNING, recovery.action());
    assertEquals(content, device.content());
  }

  @Test
  void deviceWithoutStopCopyIsNotMigratable() throws Exception {
    SimulatedDevice device =
        device(SimulatedDeviceSpec.of(SOURCE, 4096).withFlags(MigrationFlags.NONE));
    VfioException e = assertThrows(VfioException.class, () -> MigrationStateMachine.probe(device));
    assertEquals(Errno.ENOTTY, e.error());
  }

  @Test
  void readingOutsideTheSessionStateIsAProgrammingError() throws Exception {
    MigrationStateMachine machine =
        MigrationStateMachine.probe(device(SimulatedDeviceSpec.of(SOURCE, 4096).withFlags(ALL)));
    assertThrows(
        IllegalStateException.class,
        () -> machine.readToEnd(new Collector(), MigrationStateMachine.Progress.NONE));
    machine.transition(PRE_COPY);
    assertThrows(
        IllegalStateException.class,
        () -> machine.readToEnd(new Collector(), MigrationStateMachine.Progress.NONE));
    assertThrows(IllegalStateException.class, () -> machine.writeAll(ByteBuffer.allocate(1)));
  }

  @Test
  void deviceLeftInStopCopyByAKilledAgentHasNoDataFdAndRecoversWithASet() throws Exception {
    SimulatedDeviceSpec spec = SimulatedDeviceSpec.of(SOURCE, 4096);
    MigrationStateMachine before = MigrationStateMachine.probe(device(spec));
    before.transition(STOP_COPY);

    SimulatedDevice again = device(spec);
    MigrationStateMachine after = MigrationStateMachine.probe(again);
    assertEquals(STOP_COPY, after.state());
    after.transition(STOP_COPY);
    VfioException e =
        assertThrows(
            VfioException.class,
            () -> after.readToEnd(new Collector(), MigrationStateMachine.Progress.NONE));
    assertEquals(Errno.EBADF, e.error());
    assertEquals(Recovery.Action.SET_RUNNING, after.recoverToRunning().action());
    assertEquals(RUNNING, again.state());
  }

  @Test
  void preCopyOptsTheDeviceInToPrecopyInfoV2OnceAndPassesItsReinitOn() throws Exception {
    SimulatedDevice simulated =
        device(SimulatedDeviceSpec.of(SOURCE, 64 * 1024).withFlags(ALL).withReinitOnPrecopyInfo(2));
    RecordingDevice device = new RecordingDevice(simulated);
    MigrationStateMachine saving = MigrationStateMachine.probe(device);
    saving.transition(PRE_COPY);
    Collector collector = new Collector();

    PrecopyRound first =
        saving.readPrecopy(collector, Long.MAX_VALUE, MigrationStateMachine.Progress.NONE);
    PrecopyRound second =
        saving.readPrecopy(collector, Long.MAX_VALUE, MigrationStateMachine.Progress.NONE);
    PrecopyInfo reinit = second.remaining().orElseThrow();
    assertTrue(reinit.reinit(), reinit::toString);
    assertTrue(reinit.initialBytes() > 64 * 1024, "the whole image again: " + reinit);
    PrecopyRound third =
        saving.readPrecopy(collector, Long.MAX_VALUE, MigrationStateMachine.Progress.NONE);
    assertEquals(reinit.initialBytes(), third.bytes());
    assertFalse(third.remaining().orElseThrow().reinit());
    saving.transition(PRE_COPY_P2P);
    saving.transition(STOP_COPY);
    saving.readToEnd(collector, total -> {});

    assertFalse(first.remaining().orElseThrow().reinit());
    assertEquals(1, device.precopyInfoV2Enables);
    assertEquals(simulated.content(), collector.state());
  }

  @Test
  void whereTheKernelLacksPrecopyInfoV2TheV1IoctlServesAndReinitDataArrivesAsDirty()
      throws Exception {
    SimulatedDevice simulated =
        device(
            SimulatedDeviceSpec.of(SOURCE, 64 * 1024)
                .withFlags(ALL)
                .withReinitOnPrecopyInfo(2)
                .withPrecopyInfoV2(false));
    RecordingDevice device = new RecordingDevice(simulated);
    MigrationStateMachine saving = MigrationStateMachine.probe(device);
    saving.transition(PRE_COPY);
    Collector collector = new Collector();

    saving.readPrecopy(collector, Long.MAX_VALUE, MigrationStateMachine.Progress.NONE);
    PrecopyInfo second =
        saving
            .readPrecopy(collector, Long.MAX_VALUE, MigrationStateMachine.Progress.NONE)
            .remaining()
            .orElseThrow();
    assertFalse(second.reinit());
    assertEquals(0, second.initialBytes());
    assertTrue(second.dirtyBytes() > 64 * 1024, second::toString);
    saving.readPrecopy(collector, Long.MAX_VALUE, MigrationStateMachine.Progress.NONE);
    saving.transition(STOP_COPY);
    saving.readToEnd(collector, total -> {});
    saving.transition(STOP);

    assertEquals(0, device.precopyInfoV2Enables);
    SimulatedDevice target = device(SimulatedDeviceSpec.of(TARGET, 64 * 1024).withFlags(ALL));
    restore(MigrationStateMachine.probe(target), collector.bytes.toByteArray());
    assertEquals(simulated.content(), target.content());
  }

  @Test
  void aFlagsBitOfADeviceNotOptedInIsNotTakenForReinit() throws Exception {
    RecordingDevice device =
        new RecordingDevice(
            device(SimulatedDeviceSpec.of(SOURCE, 4096).withFlags(ALL).withPrecopyInfoV2(false)));
    // The v1 ioctl copies the caller's flags back, and a driver may leave anything there.
    device.strayFlagsBit = true;
    MigrationStateMachine saving = MigrationStateMachine.probe(device);
    saving.transition(PRE_COPY);

    PrecopyRound round =
        saving.readPrecopy(new Collector(), Long.MAX_VALUE, MigrationStateMachine.Progress.NONE);

    assertFalse(round.remaining().orElseThrow().reinit());
  }

  /** Passes everything through to a real device, remembering SETs and the fds they returned. */
  static final class RecordingDevice implements MigrationDevice {
    final MigrationDevice delegate;
    final List<MigrationState> sets = new ArrayList<>();
    final List<RecordingDataFd> fds = new ArrayList<>();
    int precopyInfoV2Enables;

    /** Its data_fds report the REINIT bit set, whatever the device says. */
    boolean strayFlagsBit;

    RecordingDevice(MigrationDevice delegate) {
      this.delegate = delegate;
    }

    @Override
    public String address() {
      return delegate.address();
    }

    @Override
    public MigrationFlags migrationFlags() throws VfioException {
      return delegate.migrationFlags();
    }

    @Override
    public MigrationState state() throws VfioException {
      return delegate.state();
    }

    @Override
    public Optional<DataFd> setState(MigrationState target) throws VfioException {
      sets.add(target);
      return delegate
          .setState(target)
          .map(
              fd -> {
                RecordingDataFd recording = new RecordingDataFd(fd, strayFlagsBit);
                fds.add(recording);
                return recording;
              });
    }

    @Override
    public OptionalLong stopCopySize() throws VfioException {
      return delegate.stopCopySize();
    }

    @Override
    public boolean precopyInfoV2Supported() throws VfioException {
      return delegate.precopyInfoV2Supported();
    }

    @Override
    public void enablePrecopyInfoV2() throws VfioException {
      precopyInfoV2Enables++;
      delegate.enablePrecopyInfoV2();
    }

    @Override
    public List<RegionType> regionTypes() throws VfioException {
      return delegate.regionTypes();
    }

    @Override
    public void reset() throws VfioException {
      delegate.reset();
    }

    @Override
    public void close() {
      delegate.close();
    }
  }

  static final class RecordingDataFd implements DataFd {
    final DataFd delegate;
    final boolean strayFlagsBit;
    boolean closed;

    RecordingDataFd(DataFd delegate, boolean strayFlagsBit) {
      this.delegate = delegate;
      this.strayFlagsBit = strayFlagsBit;
    }

    @Override
    public int read(ByteBuffer dst) throws VfioException {
      return delegate.read(dst);
    }

    @Override
    public int write(ByteBuffer src) throws VfioException {
      return delegate.write(src);
    }

    @Override
    public PrecopyInfo precopyInfo() throws VfioException {
      PrecopyInfo info = delegate.precopyInfo();
      return strayFlagsBit ? new PrecopyInfo(info.initialBytes(), info.dirtyBytes(), true) : info;
    }

    @Override
    public void close() {
      closed = true;
      delegate.close();
    }
  }
}
