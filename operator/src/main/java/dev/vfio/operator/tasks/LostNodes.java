package dev.vfio.operator.tasks;

import dev.vfio.api.v1alpha1.Reason;
import dev.vfio.api.v1alpha1.TaskPhase;
import dev.vfio.api.v1alpha1.VfioNode;
import dev.vfio.api.v1alpha1.VfioNodeTask;
import dev.vfio.api.v1alpha1.VfioNodeTaskStatus;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;

/**
 * The one place that decides which unfinished tasks will never finish: those that wait on an agent
 * that is gone — its node's VfioNode has sent no heartbeat for twice the heartbeat timeout, or no
 * longer exists (NodeLost) — and running tasks that have themselves sent no heartbeat for as long
 * while their node's agent still does (TaskStalled: a wedged worker, or a task its agent forgot).
 * The first timeout already refuses new work on a silent node (AgentNotReady); the second, as long
 * again, is the grace a slow or restarting agent gets before the operator stops waiting for it.
 * Such a task's parent ends Failed and can be deleted: nothing will ever report on the task again,
 * unless the agent comes back, and then its journal replay undoes what the task had started.
 */
public final class LostNodes {
  /** Why a task will never finish: {@code reason} is NodeLost or TaskStalled. */
  public record Lost(Reason reason, String message) {}

  private final Duration silenceAllowed;
  private final Function<String, VfioNode> nodes;

  /** {@code nodes} reads a node's VfioNode, null when there is none. */
  public LostNodes(Duration heartbeatTimeout, Function<String, VfioNode> nodes) {
    this.silenceAllowed = heartbeatTimeout.multipliedBy(2);
    this.nodes = nodes;
  }

  /**
   * Why the first unfinished task of {@code tasks} will never finish, if one sits on a lost node.
   */
  public Optional<Lost> lost(Collection<VfioNodeTask> tasks, Instant now) {
    return tasks.stream()
        .filter(Objects::nonNull)
        .filter(t -> !NodeTasks.isTerminal(t))
        .map(t -> silence(t, now))
        .flatMap(Optional::stream)
        .findFirst();
  }

  public boolean isLost(VfioNodeTask task, Instant now) {
    return !NodeTasks.isTerminal(task) && silence(task, now).isPresent();
  }

  private Optional<Lost> silence(VfioNodeTask task, Instant now) {
    String node = task.getSpec().getNodeName();
    String what =
        task.getSpec().getOperation()
            + " task "
            + task.getMetadata().getName()
            + " on node "
            + node;
    VfioNode vfioNode = nodes.apply(node);
    if (vfioNode == null) {
      return Optional.of(
          new Lost(
              Reason.NODE_LOST,
              what + " cannot finish: the node's VfioNode is gone, so is its agent"));
    }
    String heartbeat =
        vfioNode.getStatus() == null ? null : vfioNode.getStatus().getHeartbeatTime();
    if (heartbeat == null) {
      // An agent that never reported has not started the task either; preflight refuses such nodes.
      return Optional.empty();
    }
    Duration silent = Duration.between(Instant.parse(heartbeat), now);
    if (silent.compareTo(silenceAllowed) > 0) {
      return Optional.of(
          new Lost(
              Reason.NODE_LOST,
              what
                  + " cannot finish: its agent has sent no heartbeat for "
                  + silent.toSeconds()
                  + "s (since "
                  + heartbeat
                  + "); check the node and its agent"));
    }
    return stalled(task, what, Instant.parse(heartbeat), now);
  }

  /**
   * A running task heartbeats while it runs, whatever it waits on (the agent writes its status at
   * least every {@code VFIO_HEARTBEAT_INTERVAL}); a Pending one may wait unclaimed in the agent's
   * queue and is not judged. Stalled means the agent went on reporting for longer than the
   * allowance after the task fell silent: an agent that died shortly after its task's last
   * heartbeat is silent too, and is judged NodeLost once its own silence is long enough.
   */
  private Optional<Lost> stalled(
      VfioNodeTask task, String what, Instant agentHeartbeat, Instant now) {
    VfioNodeTaskStatus status = task.getStatus();
    if (status == null
        || status.getPhase() != TaskPhase.Running
        || status.getHeartbeatTime() == null) {
      return Optional.empty();
    }
    Instant taskHeartbeat = Instant.parse(status.getHeartbeatTime());
    Duration silent = Duration.between(taskHeartbeat, now);
    if (silent.compareTo(silenceAllowed) <= 0
        || Duration.between(taskHeartbeat, agentHeartbeat).compareTo(silenceAllowed) <= 0) {
      return Optional.empty();
    }
    return Optional.of(
        new Lost(
            Reason.TASK_STALLED,
            what
                + " has sent no heartbeat for "
                + silent.toSeconds()
                + "s (since "
                + status.getHeartbeatTime()
                + ") though its node's agent runs: its worker is stuck; restart the node agent"
                + " (its journal replay returns the devices to RUNNING)"));
  }
}
