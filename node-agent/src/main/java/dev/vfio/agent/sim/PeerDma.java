package dev.vfio.agent.sim;

import static dev.vfio.agent.vfio.MigrationState.PRE_COPY;
import static dev.vfio.agent.vfio.MigrationState.PRE_COPY_P2P;
import static dev.vfio.agent.vfio.MigrationState.RUNNING;
import static dev.vfio.agent.vfio.MigrationState.RUNNING_P2P;

import dev.vfio.agent.vfio.MigrationState;
import java.util.Collection;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Who may do peer-to-peer DMA to whom among the simulated devices of a node, and the rule that
 * keeps it from being lost: the devices one pod holds are peers (the simulation's pods list theirs
 * in an annotation, {@link SimulatedPodResolver}). Among peers that advertise P2P, a device must
 * not stop answering DMA (leave RUNNING, PRE_COPY and their _P2P states) while a peer still
 * initiates it (RUNNING, PRE_COPY), nor start initiating while a peer does not answer.
 *
 * <p>Hardware that breaks the rule loses transactions silently; the simulated device refuses the
 * arc instead (EIO, device left where it was), so an ordering bug fails a test rather than
 * corrupting state nobody reads. The uAPI reference, section "Several devices of one workload", is
 * the source of the rule.
 */
public final class PeerDma {
  private final Map<String, Set<String>> peers = new ConcurrentHashMap<>();
  private final Map<String, MigrationState> states = new ConcurrentHashMap<>();

  /** The devices one pod holds: from now on each is the others' peer. */
  public void holdTogether(Collection<String> addresses) {
    Set<String> together = Set.copyOf(addresses);
    for (String address : together) {
      peers.put(address, together);
    }
  }

  /** A P2P device at {@code address} is in {@code state}; one without P2P is not tracked. */
  void moved(String address, MigrationState state) {
    states.put(address, state);
  }

  /**
   * The peer that the arc {@code from} → {@code to} of the device at {@code address} would lose DMA
   * with, if any.
   */
  Optional<String> violatedBy(String address, MigrationState from, MigrationState to) {
    boolean stopsAnswering = answers(from) && !answers(to);
    boolean startsInitiating = !initiates(from) && initiates(to);
    if (!stopsAnswering && !startsInitiating) {
      return Optional.empty();
    }
    for (String peer : peers.getOrDefault(address, Set.of())) {
      MigrationState state = peer.equals(address) ? null : states.get(peer);
      if (state == null) {
        continue;
      }
      if ((stopsAnswering && initiates(state)) || (startsInitiating && !answers(state))) {
        return Optional.of(peer + " (" + state + ")");
      }
    }
    return Optional.empty();
  }

  private static boolean initiates(MigrationState state) {
    return state == RUNNING || state == PRE_COPY;
  }

  private static boolean answers(MigrationState state) {
    return initiates(state) || state == RUNNING_P2P || state == PRE_COPY_P2P;
  }
}
