package dev.vfio.operator.snapshot;

import dev.vfio.api.v1alpha1.VfioSnapshot;
import java.util.HashSet;
import java.util.Set;

/**
 * Bounds snapshots in flight, per cluster and per namespace, so that one namespace creating
 * hundreds cannot freeze the cluster's pods all at once nor starve the others: a snapshot past a
 * bound waits in Pending (WaitingForCapacity) and starts when one ends. Decisions are made one at a
 * time, so two reconciliations running in parallel cannot both take the last slot.
 *
 * <p>A snapshot holds its slot from its start until it ends; a running one takes it again on every
 * pass, whatever the bounds, so that after an operator restart the snapshots already in flight
 * count from their first reconciliation.
 */
final class SnapshotAdmission {
  private final int maxInFlight;
  private final int maxPerNamespace;
  private final Set<String> admitted = new HashSet<>();

  SnapshotAdmission(int maxInFlight, int maxPerNamespace) {
    this.maxInFlight = maxInFlight;
    this.maxPerNamespace = maxPerNamespace;
  }

  /** Null if {@code snapshot} may start now (it then holds a slot), otherwise why it waits. */
  synchronized String admit(VfioSnapshot snapshot) {
    String key = key(snapshot);
    if (admitted.contains(key)) {
      return null;
    }
    if (admitted.size() >= maxInFlight) {
      return admitted.size()
          + " snapshots are in flight, the most the operator runs at once (VFIO_MAX_SNAPSHOTS="
          + maxInFlight
          + "); waiting for one to finish";
    }
    String namespace = snapshot.getMetadata().getNamespace();
    long inNamespace = admitted.stream().filter(k -> k.startsWith(namespace + "/")).count();
    if (inNamespace >= maxPerNamespace) {
      return inNamespace
          + " snapshots are in flight in namespace "
          + namespace
          + " (VFIO_MAX_SNAPSHOTS_PER_NAMESPACE="
          + maxPerNamespace
          + "); waiting for one to finish";
    }
    admitted.add(key);
    return null;
  }

  /** A snapshot already running keeps its slot, over the bounds if it must. */
  synchronized void hold(VfioSnapshot snapshot) {
    admitted.add(key(snapshot));
  }

  synchronized void release(VfioSnapshot snapshot) {
    admitted.remove(key(snapshot));
  }

  private static String key(VfioSnapshot snapshot) {
    return snapshot.getMetadata().getNamespace() + "/" + snapshot.getMetadata().getName();
  }
}
