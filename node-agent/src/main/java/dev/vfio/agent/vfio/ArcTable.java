package dev.vfio.agent.vfio;

import static dev.vfio.agent.vfio.MigrationState.ERROR;
import static dev.vfio.agent.vfio.MigrationState.PRE_COPY;
import static dev.vfio.agent.vfio.MigrationState.PRE_COPY_P2P;
import static dev.vfio.agent.vfio.MigrationState.RESUMING;
import static dev.vfio.agent.vfio.MigrationState.RUNNING;
import static dev.vfio.agent.vfio.MigrationState.RUNNING_P2P;
import static dev.vfio.agent.vfio.MigrationState.STOP;
import static dev.vfio.agent.vfio.MigrationState.STOP_COPY;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The kernel's answer to "which arc comes next": the 8×8 table of {@code vfio_mig_get_next_state()}
 * in {@code drivers/vfio/vfio_main.c}, with its loop that skips states the device does not
 * advertise. Drivers call it repeatedly to walk a combination request one arc at a time; the
 * simulated device does the same, and the state machine uses it to know which arcs a single SET
 * walked (which one opened a data_fd, which ones ended a session).
 *
 * <p>One deliberate difference: for STOP_COPY → PRE_COPY(_P2P) on a PRE_COPY-capable device the
 * kernel's skip loop spins forever on its ERROR sentinel (a soft lockup, fixed in stable in 2026).
 * Here the sentinel ends the loop and the request is refused with EINVAL, which is what the fixed
 * kernel does.
 */
public final class ArcTable {
  /** Rows by current state, columns by target state, both indexed by the uAPI value. */
  private static final MigrationState[][] NEXT_HOP = new MigrationState[8][];

  static {
    // Rows: current state. Columns: target state, in uAPI order. Cells: next hop.
    //                ERROR  STOP         RUNNING      STOP_COPY     RESUMING     RUNNING_P2P
    // PRE_COPY     PRE_COPY_P2P
    row(STOP, ERROR, STOP, RUNNING_P2P, STOP_COPY, RESUMING, RUNNING_P2P, RUNNING_P2P, RUNNING_P2P);
    row(
        RUNNING,
        ERROR,
        RUNNING_P2P,
        RUNNING,
        RUNNING_P2P,
        RUNNING_P2P,
        RUNNING_P2P,
        PRE_COPY,
        RUNNING_P2P);
    row(STOP_COPY, ERROR, STOP, STOP, STOP_COPY, STOP, STOP, ERROR, ERROR);
    row(RESUMING, ERROR, STOP, STOP, STOP, RESUMING, STOP, STOP, STOP);
    row(RUNNING_P2P, ERROR, STOP, RUNNING, STOP, STOP, RUNNING_P2P, RUNNING, PRE_COPY_P2P);
    row(PRE_COPY, ERROR, RUNNING, RUNNING, PRE_COPY_P2P, RUNNING, RUNNING, PRE_COPY, PRE_COPY_P2P);
    row(
        PRE_COPY_P2P,
        ERROR,
        RUNNING_P2P,
        RUNNING_P2P,
        STOP_COPY,
        RUNNING_P2P,
        RUNNING_P2P,
        PRE_COPY,
        PRE_COPY_P2P);
    row(ERROR, ERROR, ERROR, ERROR, ERROR, ERROR, ERROR, ERROR, ERROR);
  }

  private ArcTable() {}

  private static void row(MigrationState from, MigrationState... nextByTarget) {
    NEXT_HOP[from.value()] = nextByTarget;
  }

  /**
   * The next state on the way from {@code current} to {@code target}, or empty where the kernel
   * answers EINVAL: an unsupported current or target state, an ERROR target or current state, or a
   * blocked arc. Equal states give {@code current} back: re-requesting a state is a no-op.
   */
  public static Optional<MigrationState> next(
      MigrationState current, MigrationState target, MigrationFlags flags) {
    if (!supported(current, flags) || !supported(target, flags)) {
      return Optional.empty();
    }
    MigrationState hop = NEXT_HOP[current.value()][target.value()];
    // An optional state the device lacks is skipped by looking up the table again from it; the
    // driver then sees one arc from the current state to the next state it does implement.
    while (hop != ERROR && !supported(hop, flags)) {
      hop = NEXT_HOP[hop.value()][target.value()];
    }
    return hop == ERROR ? Optional.empty() : Optional.of(hop);
  }

  /**
   * Every state one SET of {@code target} passes through after {@code current}, in order, ending
   * with {@code target}; an empty list when they are equal; empty where the kernel answers EINVAL.
   */
  public static Optional<List<MigrationState>> path(
      MigrationState current, MigrationState target, MigrationFlags flags) {
    List<MigrationState> hops = new ArrayList<>();
    MigrationState at = current;
    while (at != target) {
      Optional<MigrationState> hop = next(at, target, flags);
      if (hop.isEmpty()) {
        return Optional.empty();
      }
      at = hop.get();
      hops.add(at);
    }
    return Optional.of(List.copyOf(hops));
  }

  /** The four arcs that create a migration session and return a new data_fd. */
  public static boolean opensDataFd(MigrationState from, MigrationState to) {
    return (from == RUNNING && to == PRE_COPY)
        || (from == RUNNING_P2P && to == PRE_COPY_P2P)
        || (from == STOP && to == STOP_COPY)
        || (from == STOP && to == RESUMING);
  }

  /**
   * The arcs after which the driver disables the session's data_fd (reads, writes and the precopy
   * ioctl then fail with ENODEV). A reset and the last close of the device end it too.
   */
  public static boolean endsSession(MigrationState from, MigrationState to) {
    return (from == STOP_COPY && to == STOP)
        || (from == RESUMING && to == STOP)
        || (from == PRE_COPY && to == RUNNING)
        || (from == PRE_COPY_P2P && to == RUNNING_P2P);
  }

  /** The kernel's notion of support: ERROR is never a state one can be in or ask for. */
  private static boolean supported(MigrationState state, MigrationFlags flags) {
    return state != ERROR && flags.supports(state);
  }
}
