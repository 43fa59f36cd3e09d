package dev.vfio.operator.preflight;

import dev.vfio.api.v1alpha1.Reason;
import io.fabric8.kubernetes.api.model.HasMetadata;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;

/**
 * One operation at a time per pod, across snapshots and migrations: two at once would interleave on
 * its devices and its freeze — one's Save resuming devices the other's Send has just stopped. The
 * later operation waits in Pending (PodBusy) and starts once the first ended. Shared by both
 * reconcilers; decisions are made one at a time, so two operations reconciled in parallel cannot
 * both take a pod.
 *
 * <p>An operation holds its pods from its start until it ends; a running one claims them again on
 * every pass, so that after an operator restart it holds them from its first reconciliation. Until
 * then (the first seconds after a restart) a Pending operation reconciled earlier may start beside
 * it; the agent still never drives one device from two tasks at once.
 */
public final class PodOperations {
  private final Map<String, String> holders = new HashMap<>();

  /**
   * Takes {@code pods} (names in {@code namespace}) for {@code owner} (e.g. {@code VfioSnapshot
   * default/nightly}), or returns the PodBusy refusal naming the operation that holds one; then
   * nothing is taken.
   */
  public synchronized Rejection claim(String owner, String namespace, Collection<String> pods) {
    for (String pod : pods) {
      String holder = holders.get(namespace + "/" + pod);
      if (holder != null && !holder.equals(owner)) {
        return new Rejection(
            Reason.POD_BUSY,
            "pod "
                + pod
                + " has "
                + holder
                + " in flight; operations on one pod run one at a time: this one starts when it"
                + " has finished");
      }
    }
    pods.forEach(pod -> holders.put(namespace + "/" + pod, owner));
    return null;
  }

  /** How an operation is named to another waiting for its pod: {@code VfioSnapshot ns/name}. */
  public static String owner(HasMetadata operation) {
    return operation.getKind()
        + " "
        + operation.getMetadata().getNamespace()
        + "/"
        + operation.getMetadata().getName();
  }

  /** Gives back every pod {@code owner} holds: it ended, or was deleted. */
  public synchronized void release(String owner) {
    holders.values().removeIf(owner::equals);
  }
}
