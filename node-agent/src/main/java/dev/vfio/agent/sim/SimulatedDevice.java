package dev.vfio.agent.sim;

import static dev.vfio.agent.vfio.MigrationState.ERROR;
import static dev.vfio.agent.vfio.MigrationState.PRE_COPY;
import static dev.vfio.agent.vfio.MigrationState.PRE_COPY_P2P;
import static dev.vfio.agent.vfio.MigrationState.RESUMING;
import static dev.vfio.agent.vfio.MigrationState.RUNNING;
import static dev.vfio.agent.vfio.MigrationState.STOP_COPY;

import dev.vfio.agent.vfio.ArcTable;
import dev.vfio.agent.vfio.DataFd;
import dev.vfio.agent.vfio.Errno;
import dev.vfio.agent.vfio.MigrationDevice;
import dev.vfio.agent.vfio.MigrationFlags;
import dev.vfio.agent.vfio.MigrationState;
import dev.vfio.agent.vfio.PrecopyInfo;
import dev.vfio.agent.vfio.RegionType;
import dev.vfio.agent.vfio.VfioException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;

/**
 * A VFIO device with migration v2, simulated so that everything above {@link MigrationDevice} runs
 * without hardware. It keeps the kernel's contract to the errno:
 *
 * <ul>
 *   <li>A SET walks combination requests one arc at a time through {@link ArcTable}, like a driver;
 *       a failing arc stops the walk and leaves the device where it was (or in ERROR).
 *   <li>Only the four session-opening arcs return a data_fd, and only as the last arc of a walk;
 *       PRE_COPY(_P2P) → STOP_COPY keeps the session. Session-ending arcs, a reset and {@link
 *       #close()} disable the fd: reads, writes and the precopy ioctl give ENODEV.
 *   <li>STOP_COPY reads run until 0, for good. PRE_COPY reads offer the initial bytes, then dirty
 *       bytes round after round, with ENOMSG (or 0, mtty style) at each temporary end; the precopy
 *       ioctl is EINVAL outside PRE_COPY(_P2P).
 *   <li>Precopy info v2 ({@code VFIO_DEVICE_FEATURE_MIG_PRECOPY_INFOv2}, Linux 7.1) where the spec
 *       has it and the device has PRE_COPY, else ENOTTY or EINVAL: the opt-in lasts until {@link
 *       #close()}. A device told to re-initialize ({@link SimulatedDeviceSpec}) changes its content
 *       at that precopy ioctl and puts new initial data on the stream; opted in, the answer raises
 *       REINIT and counts it as initial bytes, otherwise as dirty bytes.
 *   <li>Region types: the v1 migration region where the spec has one, nothing else.
 *   <li>RESUMING takes any writes and checks them on the arc leaving RESUMING: bad or incomplete
 *       data fails that SET with EINVAL and leaves the device in ERROR. A write the device is told
 *       to refuse ({@link SimulatedFaults.WriteRefusal}) fails and takes nothing; the device stays
 *       in RESUMING.
 *   <li>ERROR and anything requested from it give EINVAL; only {@link #reset()} leaves it.
 *   <li>Without STOP_COPY the device has no migration ops: ENOTTY.
 * </ul>
 *
 * <p>The device's content is a {@link SimulatedState}; it advances by one epoch each time the
 * device leaves RUNNING (it ran since the last time) and when it re-initializes during PRE_COPY,
 * becomes the loaded state after a successful resume, and returns to the power-on state on reset,
 * as device state does on a function reset.
 *
 * <p>Like hardware, the device outlives the agent: state and content are written to a file in the
 * state directory on every change and read back when a device with the same address is created
 * again. An open session does not survive; a device found in a session state has no data_fd until
 * it is moved.
 *
 * <p>Thread-safe: every operation is atomic with respect to the others, which is why the whole
 * contract is kept in this one class, under one lock, however long the list above grows.
 */
public final class SimulatedDevice implements MigrationDevice {
  /** Drivers may write less than offered; this one takes at most this much per write(). */
  static final int MAX_WRITE_BYTES = 256 * 1024;

  /** A throttled read delivers at most this fraction of a second's worth at a time. */
  private static final int THROTTLE_SLICES_PER_SECOND = 20;

  private final SimulatedDeviceSpec spec;
  private final DeviceStateFile stateFile;
  private final PeerDma peerDma;
  private volatile SimulatedFaults faults;
  private MigrationState state;
  private SimulatedState content;
  private SaveSession saving;
  private StateStreamParser resuming;
  private boolean precopyInfoV2;

  /**
   * The device at {@code spec.address()}, in the state it was last left in under {@code
   * stateDirectory}, or RUNNING with power-on content if it was never seen.
   */
  public SimulatedDevice(SimulatedDeviceSpec spec, Path stateDirectory) throws IOException {
    this(spec, stateDirectory, new PeerDma());
  }

  /** As above, among the devices of a node whose pods' peer-to-peer DMA {@code peerDma} guards. */
  public SimulatedDevice(SimulatedDeviceSpec spec, Path stateDirectory, PeerDma peerDma)
      throws IOException {
    this.spec = spec;
    this.peerDma = peerDma;
    this.faults = spec.faults();
    this.stateFile = new DeviceStateFile(stateDirectory, spec.address());
    Optional<DeviceStateFile.Record> saved = stateFile.load();
    if (saved.isPresent()) {
      this.state = saved.get().state();
      this.content = saved.get().content();
    } else {
      this.state = RUNNING;
      this.content = SimulatedState.powerOn(spec.address(), spec.stateBytes());
      stateFile.store(new DeviceStateFile.Record(state, content));
    }
    published();
  }

  public SimulatedDeviceSpec spec() {
    return spec;
  }

  /** The state the device holds now; what a save would carry. */
  public synchronized SimulatedState content() {
    return content;
  }

  public synchronized long epoch() {
    return content.epoch();
  }

  /** Replaces the injected faults; takes effect on the next operation. */
  public void setFaults(SimulatedFaults newFaults) {
    this.faults = newFaults;
  }

  @Override
  public String address() {
    return spec.address();
  }

  @Override
  public synchronized MigrationFlags migrationFlags() throws VfioException {
    requireMigrationOps("GET MIGRATION");
    return spec.flags();
  }

  @Override
  public synchronized MigrationState state() throws VfioException {
    requireMigrationOps("GET MIG_DEVICE_STATE");
    return state;
  }

  @Override
  public synchronized Optional<DataFd> setState(MigrationState target) throws VfioException {
    String operation = "SET MIG_DEVICE_STATE " + state + " -> " + target;
    requireMigrationOps(operation);
    Optional<DataFd> fd = Optional.empty();
    // Like the drivers' loops: re-requesting the current state does nothing.
    while (state != target) {
      MigrationState from = state;
      MigrationState next =
          ArcTable.next(from, target, spec.flags())
              .orElseThrow(
                  () ->
                      error(
                          operation,
                          Errno.EINVAL,
                          "no arc from "
                              + from
                              + " towards "
                              + target
                              + " for flags "
                              + spec.flags().names()));
      fd = performArc(operation, from, next);
    }
    return fd;
  }

  @Override
  public synchronized OptionalLong stopCopySize() throws VfioException {
    requireMigrationOps("GET MIG_DATA_SIZE");
    if (!spec.migDataSize()) {
      return OptionalLong.empty();
    }
    return OptionalLong.of(saving != null ? saving.stopCopyRemaining() : content.streamBytes());
  }

  @Override
  public synchronized boolean precopyInfoV2Supported() throws VfioException {
    requireMigrationOps("PROBE MIG_PRECOPY_INFOv2");
    return spec.precopyInfoV2() && spec.flags().preCopy();
  }

  @Override
  public synchronized void enablePrecopyInfoV2() throws VfioException {
    String operation = "SET MIG_PRECOPY_INFOv2";
    requireMigrationOps(operation);
    if (!spec.precopyInfoV2()) {
      throw error(operation, Errno.ENOTTY, "this kernel has no precopy info v2 (before 7.1)");
    }
    if (!spec.flags().preCopy()) {
      throw error(operation, Errno.EINVAL, "device has no PRE_COPY");
    }
    precopyInfoV2 = true;
  }

  @Override
  public List<RegionType> regionTypes() {
    return spec.v1MigrationRegion() ? List.of(RegionType.MIGRATION_V1) : List.of();
  }

  @Override
  public synchronized void reset() throws VfioException {
    endSession();
    state = RUNNING;
    content = SimulatedState.powerOn(spec.address(), spec.stateBytes());
    persist("RESET");
  }

  /**
   * The last close of the device file: open sessions end and the precopy info v2 opt-in with them,
   * the device keeps its state.
   */
  @Override
  public synchronized void close() {
    endSession();
    precopyInfoV2 = false;
  }

  private Optional<DataFd> performArc(String operation, MigrationState from, MigrationState to)
      throws VfioException {
    String arc = "arc " + from + " -> " + to;
    Optional<SimulatedFaults.ArcFault> fault = faults.arcFault(from, to);
    if (fault.isPresent()) {
      if (fault.get().leaveInError()) {
        enterError(operation);
      }
      throw error(operation, fault.get().errno(), arc + " failed (injected fault)");
    }
    if (spec.flags().p2p()) {
      Optional<String> peer = peerDma.violatedBy(spec.address(), from, to);
      if (peer.isPresent()) {
        throw error(
            operation,
            Errno.EIO,
            arc
                + " would lose peer-to-peer DMA with "
                + peer.get()
                + ": every device of a pod answers DMA (_P2P) before any stops or starts (the"
                + " simulation refuses what hardware would corrupt)");
      }
    }
    if (from == RESUMING) {
      content = loadedState(operation, arc);
    }
    if (from == RUNNING) {
      content = content.ranOnce();
    }
    if (ArcTable.endsSession(from, to)) {
      endSession();
    }
    state = to;
    Optional<DataFd> fd = Optional.empty();
    if (ArcTable.opensDataFd(from, to)) {
      if (to == RESUMING) {
        resuming = new StateStreamParser();
        fd = Optional.of(new SimulatedDataFd(this, null, resuming));
      } else {
        saving = new SaveSession(content, spec.dirtyBytesPerRound(), to == STOP_COPY);
        fd = Optional.of(new SimulatedDataFd(this, saving, null));
      }
    } else if (to == STOP_COPY && saving != null) {
      saving.enterStopCopy();
    }
    persist(operation);
    return fd;
  }

  /** Checks what RESUMING received; on any problem the device drops to ERROR. */
  private SimulatedState loadedState(String operation, String arc) throws VfioException {
    if (faults.rejectResumeData()) {
      enterError(operation);
      throw error(operation, Errno.EIO, arc + ": device rejected the resume data (injected fault)");
    }
    if (resuming == null) {
      enterError(operation);
      throw error(operation, Errno.EINVAL, arc + ": no resume data in this session");
    }
    try {
      return resuming.finish();
    } catch (MalformedStateException e) {
      enterError(operation);
      throw error(operation, Errno.EINVAL, arc + ": invalid resume data: " + e.getMessage());
    }
  }

  synchronized int read(SaveSession session, ByteBuffer dst) throws VfioException {
    requireSession(session == saving, "read data_fd");
    if (!dst.hasRemaining()) {
      return 0;
    }
    SimulatedFaults now = faults;
    int max = dst.remaining();
    if (now.failStreamAfterBytes().isPresent()) {
      long left = now.failStreamAfterBytes().getAsLong() - session.produced();
      if (left <= 0) {
        throw error(
            "read data_fd",
            Errno.EIO,
            "stream failed after " + session.produced() + " bytes (injected fault)");
      }
      max = (int) Math.min(max, left);
    }
    if (now.bytesPerSecond() > 0) {
      max = (int) Math.min(max, Math.max(1, now.bytesPerSecond() / THROTTLE_SLICES_PER_SECOND));
    }
    int n = session.produce(dst, max);
    if (n == 0 && (state == PRE_COPY || state == PRE_COPY_P2P)) {
      if (spec.zeroAtPrecopyEnd()) {
        return 0;
      }
      throw error("read data_fd", Errno.ENOMSG, "no precopy data available now");
    }
    return n;
  }

  /** Slow hardware: the reader waits for the bytes it got, outside the device lock. */
  void throttle(int bytesRead) {
    long rate = faults.bytesPerSecond();
    if (rate <= 0 || bytesRead <= 0) {
      return;
    }
    try {
      TimeUnit.NANOSECONDS.sleep(bytesRead * TimeUnit.SECONDS.toNanos(1) / rate);
    } catch (InterruptedException e) {
      // The bytes were read; leave the interrupt for the caller to see.
      Thread.currentThread().interrupt();
    }
  }

  synchronized int write(StateStreamParser session, ByteBuffer src) throws VfioException {
    requireSession(session == resuming, "write data_fd");
    Optional<SimulatedFaults.WriteRefusal> refusal = faults.refuseResumeWrite();
    // Like mtty: the position plus the whole request is checked, before any byte is taken.
    if (refusal.isPresent() && session.consumed() + src.remaining() > refusal.get().afterBytes()) {
      throw error(
          "write data_fd",
          refusal.get().errno(),
          "device refused "
              + src.remaining()
              + " bytes at stream offset "
              + session.consumed()
              + " (injected fault)");
    }
    int n = Math.min(src.remaining(), MAX_WRITE_BYTES);
    session.accept(src.slice(src.position(), n));
    src.position(src.position() + n);
    return n;
  }

  synchronized PrecopyInfo precopyInfo(SaveSession session) throws VfioException {
    requireSession(session == saving, "MIG_GET_PRECOPY_INFO");
    if (state != PRE_COPY && state != PRE_COPY_P2P) {
      throw error("MIG_GET_PRECOPY_INFO", Errno.EINVAL, "device is in " + state);
    }
    boolean reinit = session.countPrecopyInfo() == spec.reinitOnPrecopyInfo();
    if (reinit) {
      // Re-initialized, as after a reconfiguration: new content, whose initial data must travel.
      content = content.ranOnce();
      session.reinit(content, precopyInfoV2);
      persist("MIG_GET_PRECOPY_INFO");
    }
    PrecopyInfo info =
        new PrecopyInfo(
            session.initialRemaining(), session.dirtyRemaining(), reinit && precopyInfoV2);
    if (info.pending() == 0) {
      session.noteNothingPending();
    }
    return info;
  }

  private void requireSession(boolean current, String operation) throws VfioException {
    if (!current) {
      throw error(operation, Errno.ENODEV, "migration session ended");
    }
  }

  private void requireMigrationOps(String operation) throws VfioException {
    if (!spec.flags().migratable()) {
      throw error(operation, Errno.ENOTTY, "device has no migration support");
    }
  }

  private void enterError(String operation) throws VfioException {
    endSession();
    state = ERROR;
    persist(operation);
  }

  private void endSession() {
    saving = null;
    resuming = null;
  }

  private void published() {
    if (spec.flags().p2p()) {
      peerDma.moved(spec.address(), state);
    }
  }

  private void persist(String operation) throws VfioException {
    published();
    try {
      stateFile.store(new DeviceStateFile.Record(state, content));
    } catch (IOException e) {
      VfioException failure = error(operation, Errno.EIO, "cannot record device state: " + e);
      failure.initCause(e);
      throw failure;
    }
  }

  VfioException error(String operation, Errno errno, String detail) {
    return new VfioException(spec.address(), operation, errno, detail);
  }
}
