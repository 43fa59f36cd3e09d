package dev.vfio.operator.migration;

import dev.vfio.api.v1alpha1.MigrationPhase;
import dev.vfio.api.v1alpha1.VfioMigration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Stream;

/**
 * Bounds migrations in flight, per cluster and per node. Decisions are made one at a time and
 * remember what they admitted until the cache shows it, so two reconciliations running in parallel
 * cannot both take the last slot.
 */
final class MigrationAdmission {
  /** The nodes a migration touches. */
  record Claim(String key, String sourceNode, String targetNode) {
    Stream<String> nodes() {
      return Stream.of(sourceNode, targetNode).filter(Objects::nonNull).distinct();
    }
  }

  private final int maxInFlight;
  private final int maxPerNode;
  private final Map<String, Claim> admitted = new HashMap<>();

  MigrationAdmission(int maxInFlight, int maxPerNode) {
    this.maxInFlight = maxInFlight;
    this.maxPerNode = maxPerNode;
  }

  /** Null if {@code claim} may start now, otherwise why it waits. */
  synchronized String admit(Claim claim, List<VfioMigration> known) {
    Map<String, Claim> inFlight = new HashMap<>(admitted);
    for (VfioMigration migration : known) {
      MigrationPhase phase =
          migration.getStatus() == null ? null : migration.getStatus().getPhase();
      String key = key(migration);
      if (phase == MigrationPhase.Running) {
        inFlight.putIfAbsent(
            key,
            new Claim(
                key, migration.getStatus().getSourceNode(), migration.getStatus().getTargetNode()));
      } else if (phase == MigrationPhase.Succeeded || phase == MigrationPhase.Failed) {
        admitted.remove(key);
        inFlight.remove(key);
      }
    }
    inFlight.remove(claim.key());
    if (inFlight.size() >= maxInFlight) {
      return inFlight.size()
          + " migrations are in flight, the most the operator runs at once (VFIO_MAX_MIGRATIONS="
          + maxInFlight
          + "); waiting for one to finish";
    }
    for (String node : claim.nodes().toList()) {
      long onNode =
          inFlight.values().stream().filter(c -> c.nodes().anyMatch(node::equals)).count();
      if (onNode >= maxPerNode) {
        return onNode
            + " migrations are in flight on node "
            + node
            + " (VFIO_MAX_MIGRATIONS_PER_NODE="
            + maxPerNode
            + "); waiting for one to finish";
      }
    }
    admitted.put(claim.key(), claim);
    return null;
  }

  synchronized void release(VfioMigration migration) {
    admitted.remove(key(migration));
  }

  static String key(VfioMigration migration) {
    return migration.getMetadata().getNamespace() + "/" + migration.getMetadata().getName();
  }
}
