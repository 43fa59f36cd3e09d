package dev.vfio.agent.vfio;

import static dev.vfio.agent.vfio.MigrationState.ERROR;
import static dev.vfio.agent.vfio.MigrationState.PRE_COPY;
import static dev.vfio.agent.vfio.MigrationState.PRE_COPY_P2P;
import static dev.vfio.agent.vfio.MigrationState.RESUMING;
import static dev.vfio.agent.vfio.MigrationState.RUNNING;
import static dev.vfio.agent.vfio.MigrationState.RUNNING_P2P;
import static dev.vfio.agent.vfio.MigrationState.STOP_COPY;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;

/**
 * The policy the agent applies to one {@link MigrationDevice}, kernel or simulated: the same
 * decisions QEMU's {@code hw/vfio/migration.c} makes.
 *
 * <ul>
 *   <li>{@link #transition} issues one SET and lets the kernel walk combination arcs; it tracks the
 *       data_fd the final arc opens and closes it when an arc on the walk ends the session. A new
 *       fd while one is held means someone reset the device behind our back: the new fd is closed
 *       and the call fails with EBADF ("data_fd out of sync"), as in QEMU.
 *   <li>It refuses STOP_COPY → PRE_COPY(_P2P) before the request reaches the device: kernels from
 *       6.2 until a 2026 stable fix spin forever on it, holding the device's state mutex.
 *   <li>Stream I/O uses one reusable direct buffer of min(1 MiB, MIG_DATA_SIZE), QEMU's size.
 *   <li>Before the first PRE_COPY it opts the device in to precopy info v2 where the device has it
 *       (a PROBE, then the SET), so that {@link PrecopyInfo#reinit} can be believed; elsewhere it
 *       keeps v1 and clears the flag, which the kernel does not define there.
 *   <li>{@link #recoverToRunning} is the single way back after any failure.
 * </ul>
 *
 * <p>Failures name the requested arc and the errno, e.g. {@code 0000:65:00.0: RUNNING -> STOP_COPY
 * failed: EIO (errno 5): device left in STOP}. A failure of the arc leaving RESUMING is a {@link
 * StateRejectedException}, and so is a resume {@code write()} the device refuses with one of {@link
 * #REFUSALS}.
 *
 * <p>Not thread-safe: one task drives one device at a time.
 *
 * <p>Long (past 500 lines) on purpose: the held data_fd, the last known state and the buffer are
 * one device's, and every method here reads or changes them; split, they would be shared state.
 */
public final class MigrationStateMachine implements AutoCloseable {
  /** QEMU's {@code VFIO_MIG_DEFAULT_DATA_BUFFER_SIZE}. */
  public static final int DEFAULT_BUFFER_BYTES = 1 << 20;

  /** Below this a tiny reported size (or a driver reporting 0) would only multiply syscalls. */
  private static final int MIN_BUFFER_BYTES = 4096;

  /**
   * The errnos with which a driver's resume {@code write()} refuses the state itself rather than
   * fails: state larger than the device's (mtty and hisi_acc give ENOMEM once a write would pass
   * their state size; ENOSPC says the same), or not the device's (a header it does not know:
   * EINVAL, EFAULT). ENODEV (the session ended under us) and EIO stay device errors.
   */
  static final Set<Errno> REFUSALS = Set.of(Errno.ENOSPC, Errno.ENOMEM, Errno.EINVAL, Errno.EFAULT);

  /**
   * Hears of every chunk a read out of the device delivered, once its sink took it; throwing stops
   * the read there, which is how a cancelled task stops a long stream promptly.
   */
  @FunctionalInterface
  public interface Progress {
    Progress NONE = bytes -> {};

    void delivered(int bytes) throws IOException;
  }

  private final MigrationDevice device;
  private final MigrationFlags flags;
  private final int maxBufferBytes;
  private ByteBuffer buffer;
  private DataFd dataFd;

  /** The state this machine last read or set; null once a failure left it unknown. */
  private MigrationState lastKnown;

  private boolean precopyInfoMissing;

  /** Null until the first PRE_COPY decides it: whether the device runs precopy info v2. */
  private Boolean precopyInfoV2;

  private MigrationStateMachine(MigrationDevice device, MigrationFlags flags, int maxBufferBytes) {
    this.device = device;
    this.flags = flags;
    this.maxBufferBytes = maxBufferBytes;
  }

  /**
   * Reads the device's migration flags and returns a state machine for it.
   *
   * @throws VfioException ENOTTY (or the kernel's EINVAL) when the device cannot migrate, also when
   *     it answers but does not advertise STOP_COPY
   */
  public static MigrationStateMachine probe(MigrationDevice device) throws VfioException {
    return probe(device, DEFAULT_BUFFER_BYTES);
  }

  /** {@link #probe(MigrationDevice)} with a smaller or larger upper bound for the I/O buffer. */
  public static MigrationStateMachine probe(MigrationDevice device, int maxBufferBytes)
      throws VfioException {
    if (maxBufferBytes <= 0) {
      throw new IllegalArgumentException("maxBufferBytes must be positive: " + maxBufferBytes);
    }
    MigrationFlags flags = device.migrationFlags();
    if (!flags.migratable()) {
      throw new VfioException(
          device.address(),
          "GET MIGRATION",
          Errno.ENOTTY,
          "device advertises " + flags.names() + " but migration requires STOP_COPY");
    }
    return new MigrationStateMachine(device, flags, maxBufferBytes);
  }

  public MigrationFlags flags() {
    return flags;
  }

  /** GET MIG_DEVICE_STATE. */
  public MigrationState state() throws VfioException {
    lastKnown = device.state();
    return lastKnown;
  }

  /** Whether a session's data_fd is held: after an opening arc, until an ending one. */
  public boolean hasDataFd() {
    return dataFd != null;
  }

  /**
   * Moves the device to {@code target} with a single SET.
   *
   * @throws StateRejectedException if the device was in RESUMING and refused the data it was sent
   * @throws VfioException for any other failure, naming the requested arc; the device may be left
   *     in an intermediate state or in ERROR: call {@link #recoverToRunning()}
   */
  public void transition(MigrationState target) throws VfioException {
    MigrationState from = state();
    String arc = from + " -> " + target;
    if (from == STOP_COPY && (target == PRE_COPY || target == PRE_COPY_P2P)) {
      throw new VfioException(
          device.address(),
          arc,
          Errno.EINVAL,
          "refused: no such arc, and kernels from 6.2 lock up on this request");
    }
    if (from == target) {
      return;
    }
    if (target == PRE_COPY || target == PRE_COPY_P2P) {
      optInToPrecopyInfoV2();
    }
    Optional<DataFd> opened;
    try {
      opened = device.setState(target);
    } catch (VfioException e) {
      throw transitionFailed(from, target, e);
    }
    lastKnown = target;
    // The kernel walked the same table; replaying it tells which arcs ended or opened a session.
    List<MigrationState> hops = ArcTable.path(from, target, flags).orElse(List.of(target));
    MigrationState finalArcFrom = from;
    MigrationState at = from;
    for (MigrationState hop : hops) {
      if (ArcTable.endsSession(at, hop)) {
        closeDataFd();
      }
      finalArcFrom = at;
      at = hop;
    }
    if (opened.isPresent()) {
      if (dataFd != null) {
        opened.get().close();
        throw new VfioException(
            device.address(),
            arc,
            Errno.EBADF,
            "data_fd out of sync: a new session opened while the previous data_fd was held");
      }
      dataFd = opened.get();
    } else if (ArcTable.opensDataFd(finalArcFrom, target)) {
      throw new VfioException(
          device.address(),
          arc,
          Errno.EBADF,
          "the arc " + finalArcFrom + " -> " + target + " opens a session but returned no data_fd");
    }
  }

  /**
   * The first half of stopping several devices together: this one stops initiating peer-to-peer DMA
   * but still answers it (RUNNING → RUNNING_P2P, PRE_COPY → PRE_COPY_P2P), so that a peer still
   * running cannot lose a transaction to it. Does nothing on a device without P2P or in any other
   * state.
   */
  public void stopInitiatingPeerDma() throws VfioException {
    if (!flags.p2p()) {
      return;
    }
    MigrationState now = state();
    if (now == RUNNING) {
      transition(RUNNING_P2P);
    } else if (now == PRE_COPY) {
      transition(PRE_COPY_P2P);
    }
  }

  /**
   * The first half of starting several devices together: this one answers peer-to-peer DMA again (→
   * RUNNING_P2P) but initiates none until {@link #transition} to RUNNING, which a caller does only
   * once every device of the set answers. From RESUMING this is where the device checks the state
   * ({@link StateRejectedException}). Does nothing on a device without P2P, or one RUNNING.
   */
  public void answerPeerDma() throws VfioException {
    if (flags.p2p() && state() != RUNNING) {
      transition(RUNNING_P2P);
    }
  }

  /**
   * In STOP_COPY, reads the device's state until {@code read()} returns 0, handing each filled
   * buffer to {@code sink} and its size to {@code progress}.
   *
   * @return the number of bytes read
   */
  public long readToEnd(ChunkSink sink, Progress progress) throws IOException {
    DataFd fd = requireSession("readToEnd", Set.of(STOP_COPY));
    long total = 0;
    boolean end = false;
    while (!end) {
      ByteBuffer lent = sink.lend();
      ByteBuffer chunk = lent != null ? lent : buffer().clear();
      int start = chunk.position();
      while (chunk.hasRemaining()) {
        if (fd.read(chunk) == 0) {
          end = true;
          break;
        }
      }
      int bytes = chunk.position() - start;
      if (bytes > 0) {
        total += bytes;
        if (lent != null) {
          sink.lentFilled(lent);
        } else {
          sink.write(chunk.flip());
        }
        progress.delivered(bytes);
      }
    }
    return total;
  }

  /**
   * In PRE_COPY(_P2P), reads what the device offers now, until the temporary end of the stream or
   * {@code maxBytes}. ENOMSG and a 0 read both mean "nothing for now": drivers differ (mlx5 fails
   * with ENOMSG, mtty returns 0), and neither is the end of the stream. Where the kernel has {@code
   * VFIO_MIG_GET_PRECOPY_INFO}, the round reports what is still pending after it. Each chunk's size
   * goes to {@code progress} once {@code sink} took it.
   */
  public PrecopyRound readPrecopy(ChunkSink sink, long maxBytes, Progress progress)
      throws IOException {
    DataFd fd = requireSession("readPrecopy", Set.of(PRE_COPY, PRE_COPY_P2P));
    ByteBuffer chunk = buffer();
    long total = 0;
    boolean drained = false;
    while (!drained && total < maxBytes) {
      chunk.clear().limit((int) Math.min(chunk.capacity(), maxBytes - total));
      while (chunk.hasRemaining() && !drained) {
        drained = !readAvailable(fd, chunk);
      }
      if (chunk.position() > 0) {
        chunk.flip();
        int bytes = chunk.remaining();
        total += bytes;
        sink.write(chunk);
        progress.delivered(bytes);
      }
    }
    return new PrecopyRound(total, drained, precopyInfo(fd));
  }

  /**
   * In RESUMING, writes all of {@code src}, looping over short writes.
   *
   * @throws StateRejectedException if the device refused the state ({@link #REFUSALS}); it is still
   *     in RESUMING, which only a reset leaves without loading: call {@link #recoverToRunning()}
   */
  public void writeAll(ByteBuffer src) throws VfioException {
    DataFd fd = requireSession("writeAll", Set.of(RESUMING));
    while (src.hasRemaining()) {
      int written;
      try {
        written = fd.write(src);
      } catch (VfioException e) {
        throw REFUSALS.contains(e.error()) ? writeRefused(e) : e;
      }
      if (written <= 0) {
        throw new VfioException(
            device.address(),
            "write data_fd",
            Errno.EIO,
            "device took no bytes with " + src.remaining() + " left to write");
      }
    }
  }

  /**
   * Brings the device back to RUNNING after any failure, the mildest way that works: nothing if it
   * is RUNNING; a SET to RUNNING if it is elsewhere; a reset from ERROR, from RESUMING (only a
   * reset aborts a resume, and leaving RESUMING would load whatever partial data was sent), or when
   * the SET fails or the state cannot be read. Closes any held data_fd.
   *
   * @throws VfioException only if the device could not be brought back to RUNNING
   */
  public Recovery recoverToRunning() throws VfioException {
    closeDataFd();
    Optional<MigrationState> found;
    try {
      found = Optional.of(state());
    } catch (VfioException e) {
      return reset(Optional.empty(), Optional.of(e));
    }
    MigrationState state = found.get();
    if (state == RUNNING) {
      return new Recovery(found, Recovery.Action.ALREADY_RUNNING, Optional.empty());
    }
    if (state == ERROR || state == RESUMING) {
      return reset(found, Optional.empty());
    }
    try {
      device.setState(RUNNING).ifPresent(DataFd::close);
    } catch (VfioException e) {
      return reset(found, Optional.of(e));
    }
    lastKnown = RUNNING;
    return new Recovery(found, Recovery.Action.SET_RUNNING, Optional.empty());
  }

  /**
   * Brings a device that took a state it must not run back to RUNNING without it: a reset from any
   * state, even STOP, from where a SET would run the state; from RUNNING too when {@code
   * alsoWhenRunning} (it runs the state already). The target of a live migration that was not
   * committed goes this way.
   *
   * @throws VfioException only if the device could not be brought back to RUNNING
   */
  public Recovery discardToRunning(boolean alsoWhenRunning) throws VfioException {
    closeDataFd();
    Optional<MigrationState> found;
    try {
      found = Optional.of(state());
    } catch (VfioException e) {
      return reset(Optional.empty(), Optional.of(e));
    }
    if (found.get() == RUNNING && !alsoWhenRunning) {
      return new Recovery(found, Recovery.Action.ALREADY_RUNNING, Optional.empty());
    }
    return reset(found, Optional.empty());
  }

  /** Closes the held data_fd, if any. The device is not this object's to close. */
  @Override
  public void close() {
    closeDataFd();
  }

  private Recovery reset(Optional<MigrationState> found, Optional<VfioException> cause)
      throws VfioException {
    lastKnown = null;
    try {
      device.reset();
    } catch (VfioException e) {
      cause.ifPresent(e::addSuppressed);
      throw e;
    }
    MigrationState after = state();
    if (after != RUNNING) {
      throw new VfioException(
          device.address(),
          "reset",
          Errno.EIO,
          "device is in " + after + " after a reset, not RUNNING");
    }
    return new Recovery(found, Recovery.Action.RESET, cause);
  }

  private VfioException transitionFailed(
      MigrationState from, MigrationState target, VfioException cause) {
    Optional<MigrationState> now;
    try {
      now = Optional.of(state());
    } catch (VfioException e) {
      cause.addSuppressed(e);
      lastKnown = null;
      now = Optional.empty();
    }
    if (now.isPresent() && !hasSession(now.get())) {
      closeDataFd();
    }
    String detail =
        now.map(state -> "device left in " + state).orElse("device state unreadable")
            + (cause.detail().isEmpty() ? "" : "; " + cause.detail());
    String arc = from + " -> " + target;
    // The first arc out of RESUMING is always RESUMING -> STOP, where drivers check the data.
    // If the device did not get past it, the data was refused.
    boolean rejected =
        from == RESUMING && now.map(state -> state == RESUMING || state == ERROR).orElse(true);
    VfioException failure =
        rejected
            ? new StateRejectedException(
                device.address(),
                arc,
                cause.errno(),
                "device rejected the state it was sent; " + detail)
            : new VfioException(device.address(), arc, cause.errno(), detail);
    failure.initCause(cause);
    return failure;
  }

  private StateRejectedException writeRefused(VfioException cause) {
    StateRejectedException refused =
        new StateRejectedException(
            device.address(),
            cause.operation(),
            cause.errno(),
            "device refused the state it was sent"
                + (cause.detail().isEmpty() ? "" : "; " + cause.detail()));
    refused.initCause(cause);
    return refused;
  }

  private DataFd requireSession(String operation, Set<MigrationState> states) throws VfioException {
    if (lastKnown == null || !states.contains(lastKnown)) {
      throw new IllegalStateException(
          operation + " needs the device in " + states + "; it was last seen in " + lastKnown);
    }
    if (dataFd == null) {
      throw new VfioException(
          device.address(),
          operation,
          Errno.EBADF,
          "no data_fd: the device is in " + lastKnown + " but its session was not opened here");
    }
    return dataFd;
  }

  /** One read; false at the PRE_COPY temporary end, signalled by ENOMSG or by 0. */
  private static boolean readAvailable(DataFd fd, ByteBuffer chunk) throws VfioException {
    try {
      return fd.read(chunk) > 0;
    } catch (VfioException e) {
      if (e.error() == Errno.ENOMSG) {
        return false;
      }
      throw e;
    }
  }

  private Optional<PrecopyInfo> precopyInfo(DataFd fd) throws VfioException {
    if (precopyInfoMissing) {
      return Optional.empty();
    }
    try {
      PrecopyInfo info = fd.precopyInfo();
      return Optional.of(
          Boolean.TRUE.equals(precopyInfoV2)
              ? info
              : new PrecopyInfo(info.initialBytes(), info.dirtyBytes(), false));
    } catch (VfioException e) {
      if (e.error() != Errno.ENOTTY) {
        throw e;
      }
      precopyInfoMissing = true;
      return Optional.empty();
    }
  }

  private void optInToPrecopyInfoV2() throws VfioException {
    if (precopyInfoV2 == null) {
      boolean supported = device.precopyInfoV2Supported();
      if (supported) {
        device.enablePrecopyInfoV2();
      }
      precopyInfoV2 = supported;
    }
  }

  private ByteBuffer buffer() {
    if (buffer == null) {
      OptionalLong stopCopyBytes = OptionalLong.empty();
      try {
        stopCopyBytes = device.stopCopySize();
      } catch (VfioException e) {
        // An unknown size is no reason to fail a migration; QEMU keeps its default too.
      }
      long size =
          stopCopyBytes.isPresent()
              ? Math.min(maxBufferBytes, Math.max(MIN_BUFFER_BYTES, stopCopyBytes.getAsLong()))
              : maxBufferBytes;
      buffer = ByteBuffer.allocateDirect((int) size);
    }
    return buffer;
  }

  private void closeDataFd() {
    if (dataFd != null) {
      dataFd.close();
      dataFd = null;
    }
  }

  private static boolean hasSession(MigrationState state) {
    return state.isSaving() || state == RESUMING;
  }
}
