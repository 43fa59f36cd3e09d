package dev.vfio.operator.preflight;

import dev.vfio.api.v1alpha1.Reason;
import dev.vfio.api.v1alpha1.VfioMigration;
import dev.vfio.api.v1alpha1.VfioMigrationSpec;
import dev.vfio.api.v1alpha1.VfioSnapshot;
import io.fabric8.kubernetes.api.model.HasMetadata;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Stream;

/**
 * One operation at a time per pod, across snapshots and migrations: two at once would interleave on
 * its devices and its freeze — one's Save resuming devices the other's Send has just stopped. The
 * later operation waits in Pending (PodBusy) and starts once the first ended. Shared by both
 * reconcilers; decisions are made one at a time, so two operations reconciled in parallel cannot
 * both take a pod.
 *
 * <p>What this operator decided is remembered here; what an operator before it decided is read from
 * the API server ({@link Record}) whenever an operation asks to start, so that after a restart a
 * Pending operation reconciled before the running one it must wait for still waits.
 */
public final class PodOperations {
  private final Map<String, String> holders = new HashMap<>();
  private final Record record;

  public PodOperations(Record record) {
    this.record = record;
  }

  /**
   * Takes {@code pods} (names in {@code namespace}) for {@code owner} (e.g. {@code VfioSnapshot
   * default/nightly}) so that it may start, or returns the PodBusy refusal naming the operation
   * that holds one, remembered or {@link Record recorded}; then nothing is taken.
   */
  public synchronized Rejection claim(String owner, String namespace, Collection<String> pods) {
    for (String pod : pods) {
      String holder = holders.get(namespace + "/" + pod);
      if (holder != null && !holder.equals(owner)) {
        return busy(pod, holder);
      }
    }
    if (!pods.stream().allMatch(pod -> owner.equals(holders.get(namespace + "/" + pod)))) {
      for (Hold hold : record.holds(namespace)) {
        if (!hold.owner().equals(owner)) {
          for (String pod : pods) {
            if (hold.pods().contains(pod)) {
              return busy(pod, hold.owner());
            }
          }
        }
      }
    }
    hold(owner, namespace, pods);
    return null;
  }

  /**
   * Holds {@code pods} for {@code owner}, an operation already running: after an operator restart
   * it holds them again from its first reconciliation.
   */
  public synchronized void hold(String owner, String namespace, Collection<String> pods) {
    pods.forEach(pod -> holders.put(namespace + "/" + pod, owner));
  }

  /** Gives back every pod {@code owner} holds: it ended, or was deleted. */
  public synchronized void release(String owner) {
    holders.values().removeIf(owner::equals);
  }

  /** How an operation is named to another waiting for its pod: {@code VfioSnapshot ns/name}. */
  public static String owner(HasMetadata operation) {
    return operation.getKind()
        + " "
        + operation.getMetadata().getNamespace()
        + "/"
        + operation.getMetadata().getName();
  }

  /** The pod a snapshot saves. */
  public static List<String> pods(VfioSnapshot snapshot) {
    return snapshot.getSpec() == null || snapshot.getSpec().getPodName() == null
        ? List.of()
        : List.of(snapshot.getSpec().getPodName());
  }

  /** A migration's source pod, if it has one, and its target. */
  public static List<String> pods(VfioMigration migration) {
    VfioMigrationSpec spec = migration.getSpec();
    if (spec == null) {
      return List.of();
    }
    return Stream.of(
            spec.getSource() == null ? null : spec.getSource().getPodName(),
            spec.getTargetPodName())
        .filter(Objects::nonNull)
        .distinct()
        .toList();
  }

  private static Rejection busy(String pod, String holder) {
    return new Rejection(
        Reason.POD_BUSY,
        "pod "
            + pod
            + " has "
            + holder
            + " in flight; operations on one pod run one at a time: this one starts when it has"
            + " finished");
  }

  /** An operation in flight and the pods of its namespace it holds. */
  public record Hold(String owner, List<String> pods) {}

  /** The operations the API server shows in flight: the decisions of earlier operators. */
  @FunctionalInterface
  public interface Record {
    List<Hold> holds(String namespace);
  }
}
