package dev.vfio.agent.tasks;

import dev.vfio.api.v1alpha1.VfioNodeTask;
import dev.vfio.api.v1alpha1.VfioNodeTaskStatus;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.time.Duration;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent's half of the two-phase switchover of a live migration (docs/reliability.md). A Send at
 * Sent or a Receive at Loaded that must stop without the operator's Commit (cancel, deadline, agent
 * restart) first ends its task with a write conditional on the task as read: the operator's Commit
 * is a conditional write too, so exactly one of the two lands. Only once the ending is stored may
 * the devices be rolled back; if the Commit came first, it is honoured instead.
 */
public final class Switchover {
  /** How a side that could not wait any longer came out. */
  public enum Outcome {
    /** The operator committed: the source stays stopped, the target runs. */
    COMMITTED,
    /** The task's failure is stored before any Commit: the side rolls back. */
    ABORTED,
    /**
     * The task is gone, so nobody can tell whether it was committed: the side does what is safe
     * with either answer (the source stays stopped, the target is reset).
     */
    UNKNOWN
  }

  private static final Logger LOG = LoggerFactory.getLogger(Switchover.class);
  private static final Duration RETRY = Duration.ofSeconds(1);

  private Switchover() {}

  /**
   * Writes the status {@code ending} makes of the stored one, if the task is still there, however
   * often it changed meanwhile; for an outcome the devices already carry.
   */
  public static void record(
      TaskStore store, VfioNodeTask task, UnaryOperator<VfioNodeTaskStatus> ending)
      throws InterruptedException {
    while (true) {
      try {
        VfioNodeTask current = store.read(task);
        if (current == null
            || !current.getMetadata().getUid().equals(task.getMetadata().getUid())
            || store.writeIfUnchanged(current, ending.apply(current.getStatus()))) {
          return;
        }
      } catch (KubernetesClientException e) {
        LOG.warn(
            "cannot record the outcome of {} yet: {}",
            task.getMetadata().getName(),
            e.getMessage());
        Thread.sleep(RETRY.toMillis());
      }
    }
  }

  /**
   * Settles the task: {@code ending} makes its terminal status from the one stored. An API server
   * that cannot be reached is retried for as long as it takes: acting without knowing the decision
   * could leave both sides running.
   */
  public static Outcome settle(
      TaskStore store, VfioNodeTask task, UnaryOperator<VfioNodeTaskStatus> ending)
      throws InterruptedException {
    while (true) {
      try {
        VfioNodeTask current = store.read(task);
        if (current == null
            || !current.getMetadata().getUid().equals(task.getMetadata().getUid())) {
          // Gone, or another task by now under the same name.
          return Outcome.UNKNOWN;
        }
        if (current.getSpec() != null && current.getSpec().committed()) {
          return Outcome.COMMITTED;
        }
        if (store.writeIfUnchanged(current, ending.apply(current.getStatus()))) {
          return Outcome.ABORTED;
        }
        // Changed since the read, perhaps by the operator's Commit: read it again.
      } catch (KubernetesClientException e) {
        LOG.warn(
            "cannot settle the switchover of {} yet: {}",
            task.getMetadata().getName(),
            e.getMessage());
        Thread.sleep(RETRY.toMillis());
      }
    }
  }
}
