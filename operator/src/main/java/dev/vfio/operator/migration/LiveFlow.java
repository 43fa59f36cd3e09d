package dev.vfio.operator.migration;

import dev.vfio.api.v1alpha1.Reason;
import dev.vfio.api.v1alpha1.SourceState;
import dev.vfio.api.v1alpha1.Stage;
import dev.vfio.api.v1alpha1.TaskPhase;
import dev.vfio.api.v1alpha1.VfioMigration;
import dev.vfio.api.v1alpha1.VfioMigrationStatus;
import dev.vfio.api.v1alpha1.VfioNodeTask;
import dev.vfio.api.v1alpha1.VfioNodeTaskSpec;
import dev.vfio.operator.reconcile.Plan;
import dev.vfio.operator.tasks.NodeTasks;
import dev.vfio.operator.tasks.TaskAction;
import dev.vfio.operator.tasks.TaskSpecs;
import io.fabric8.kubernetes.api.model.Pod;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Live, between agents (transport Auto or Direct): a {@code Receive} task on the target's node
 * first, then, once it listens, a {@code Send} task on the source's node with its endpoint and a
 * per-migration token. Then the two-phase switchover, with this flow as the arbiter: once the Send
 * waits at Sent and the Receive at Loaded, a conditional Commit into the Send's spec — the commit
 * point, after which the source never runs on its own — then into the Receive's. Everything is read
 * back from the task specs, so a restarted operator goes on where it stopped.
 *
 * <p>Before the commit point any failure cancels the other side, whose agent rolls its devices
 * back: the workload runs where it was. After it, the source stays stopped: a target that fails has
 * its devices reset by its agent, and a {@code Resume} task runs the source again; a target whose
 * agent is gone leaves both stopped until it comes back, since zero copies running is safe and two
 * are not.
 */
final class LiveFlow implements MigrationFlow {
  static final String RECEIVE = "receive";
  static final String SEND = "send";
  static final String RESUME = "resume";
  private static final Logger LOG = LoggerFactory.getLogger(LiveFlow.class);

  /** The IPs of the agent pods on a node. */
  @FunctionalInterface
  interface AgentAddresses {
    Set<String> of(String node);
  }

  private final FlowSteps steps;
  private final Supplier<String> tokens;
  private final AgentAddresses agents;

  /**
   * {@code tokens} makes the secret a Send shows its Receive, a new one for each migration; {@code
   * agents} tells where the agents are, so that a Receive's advertised endpoint can be checked.
   */
  LiveFlow(FlowSteps steps, Supplier<String> tokens, AgentAddresses agents) {
    this.steps = steps;
    this.tokens = tokens;
    this.agents = agents;
  }

  @Override
  public List<String> roles() {
    return List.of(RECEIVE, SEND, RESUME);
  }

  @Override
  public Plan<VfioMigrationStatus> start(VfioMigration migration, MigrationPlan plan, Instant now) {
    return steps
        .started(migration, plan, now)
        .with(
            new TaskAction.Create(
                RECEIVE,
                TaskSpecs.receive(
                    migration.getSpec(),
                    plan.sourceNode(),
                    plan.targetPod(),
                    plan.pairs(),
                    plan.expectedBytes(),
                    tokens.get(),
                    now.plus(plan.timeout()))));
  }

  @Override
  public Plan<VfioMigrationStatus> follow(
      VfioMigration migration, Map<String, VfioNodeTask> tasks, Instant now) {
    VfioNodeTask receive = tasks.get(RECEIVE);
    VfioNodeTask send = tasks.get(SEND);
    VfioNodeTask resume = tasks.get(RESUME);
    if (receive == null) {
      return steps.lost(migration, Stream.of(send, resume).filter(Objects::nonNull).toList(), now);
    }
    if (send != null && send.getSpec().committed()) {
      return committed(migration, receive, send, resume, now);
    }
    // Neither side acts on a silence: the lost side waits for a decision that cannot come now, and
    // the other rolls back on its own deadline.
    var lost =
        steps.nodeLost(migration, tasks.values(), "the other side is left to its own agent", now);
    if (lost.isPresent()) {
      return lost.get();
    }
    List<VfioNodeTask> both = Stream.of(receive, send).filter(Objects::nonNull).toList();
    if (both.stream().anyMatch(FlowSteps::failed)) {
      return rollBack(migration, receive, send, both, now);
    }
    var rollingBack = steps.watchdog(migration, both, receive.getSpec().getPodUid(), now);
    if (rollingBack.isPresent()) {
      return rollingBack.get();
    }
    Plan<VfioMigrationStatus> next = steps.running(migration, send, send == null ? receive : send);
    if (send == null && receive.getStatus() != null && receive.getStatus().getEndpoint() != null) {
      var mismatch = endpointMismatch(migration, receive, now);
      if (mismatch.isPresent()) {
        return mismatch.get();
      }
      LOG.info(
          "receiver listens on {}:{}; sending",
          receive.getStatus().getEndpoint().getHost(),
          receive.getStatus().getEndpoint().getPort());
      next = next.with(new TaskAction.Create(SEND, sendSpec(migration, receive)));
    }
    if (waiting(send, Stage.Sent) && waiting(receive, Stage.Loaded)) {
      LOG.info("both sides hold the state; committing the switchover");
      next = next.with(new TaskAction.Commit(send));
    }
    return next;
  }

  @Override
  public SourceState sourceState(Map<String, VfioNodeTask> tasks) {
    VfioNodeTask send = tasks.get(SEND);
    return send != null && send.getSpec().committed() && !MigrationFlow.resumed(tasks.get(RESUME))
        ? SourceState.Stopped
        : SourceState.Running;
  }

  /**
   * After the commit point: the Receive is committed next, if it is not yet; its outcome ends the
   * migration. Neither the Send's outcome nor the deadline changes anything now.
   */
  private Plan<VfioMigrationStatus> committed(
      VfioMigration migration,
      VfioNodeTask receive,
      VfioNodeTask send,
      VfioNodeTask resume,
      Instant now) {
    if (resume != null) {
      return resumed(migration, receive, resume, now);
    }
    return switch (NodeTasks.phase(receive)) {
      case Succeeded ->
          steps.succeeded(
              migration,
              send,
              receive,
              FlowSteps.downtime(
                  send.getStatus() == null ? null : send.getStatus().getStoppedAt(),
                  receive.getStatus().getResumedAt()),
              now);
      case Failed, Cancelled ->
          // Its agent reset the target devices before it wrote this: the source may run again.
          steps
              .rollingBack(
                  migration,
                  steps.reasonOf(migration, receive, now),
                  "the target failed after the switchover was committed; resuming the source: "
                      + FlowSteps.messageOf(receive),
                  now)
              .with(new TaskAction.Create(RESUME, TaskSpecs.resume(send)));
      default -> {
        var lost =
            steps.nodeLost(
                migration,
                List.of(receive),
                "the switchover was committed, so the source stays stopped: one copy of the"
                    + " workload may run, never two. The target runs the state if its agent"
                    + " comes back; otherwise delete the target pod and restart the source pod",
                now);
        if (lost.isPresent()) {
          yield lost.get();
        }
        Plan<VfioMigrationStatus> next = steps.running(migration, send, receive);
        yield receive.getSpec().committed() ? next : next.with(new TaskAction.Commit(receive));
      }
    };
  }

  /** The target failed after the commit point and the source is being resumed. */
  private Plan<VfioMigrationStatus> resumed(
      VfioMigration migration, VfioNodeTask receive, VfioNodeTask resume, Instant now) {
    var lost =
        steps.nodeLost(
            migration,
            List.of(resume),
            "the target failed after the switchover was committed, and the source could not be"
                + " resumed: restart the source pod",
            now);
    if (lost.isPresent()) {
      return lost.get();
    }
    if (!NodeTasks.isTerminal(resume)) {
      return Plan.waitFor(FlowSteps.POLL);
    }
    return steps.failed(
        migration,
        steps.reasonOf(migration, receive, now),
        FlowSteps.messageOf(receive) + "; the source was resumed: " + FlowSteps.messageOf(resume),
        now);
  }

  /** Whether the task waits at {@code stage} for the switchover. */
  private static boolean waiting(VfioNodeTask task, Stage stage) {
    return task != null
        && !NodeTasks.isTerminal(task)
        && task.getStatus() != null
        && task.getStatus().getStage() == stage;
  }

  /** One side failed: the other must stop and roll back before the migration is over. */
  private Plan<VfioMigrationStatus> rollBack(
      VfioMigration migration,
      VfioNodeTask receive,
      VfioNodeTask send,
      List<VfioNodeTask> both,
      Instant now) {
    VfioNodeTask cause =
        send != null && NodeTasks.phase(send) == TaskPhase.Failed
            ? send
            : NodeTasks.phase(receive) == TaskPhase.Failed
                ? receive
                : send != null ? send : receive;
    if (both.stream().allMatch(NodeTasks::isTerminal)) {
      return steps.failedBy(migration, cause, now);
    }
    return steps
        .rollingBack(
            migration,
            steps.reasonOf(migration, cause, now),
            "rolling back: " + FlowSteps.messageOf(cause),
            now)
        .withAll(
            both.stream()
                .filter(t -> !NodeTasks.isTerminal(t))
                .map(TaskAction.Cancel::new)
                .toList());
  }

  /**
   * The Receive's endpoint is what its agent wrote into its status; only the IP of the agent pod on
   * the Receive's node is handed to the Send, so that nobody else's write can redirect the state
   * (the Send's agent checks the receiver's certificate as well).
   */
  private Optional<Plan<VfioMigrationStatus>> endpointMismatch(
      VfioMigration migration, VfioNodeTask receive, Instant now) {
    String node = receive.getSpec().getNodeName();
    String host = receive.getStatus().getEndpoint().getHost();
    Set<String> addresses = agents.of(node);
    if (addresses.contains(host)) {
      return Optional.empty();
    }
    return Optional.of(
        steps
            .rollingBack(
                migration,
                Reason.ENDPOINT_MISMATCH,
                "the Receive on node "
                    + node
                    + " advertises "
                    + host
                    + ", which is not the IP of the agent pod on that node ("
                    + (addresses.isEmpty() ? "none running" : String.join(", ", addresses))
                    + "); rolling back",
                now)
            .with(new TaskAction.Cancel(receive)));
  }

  /**
   * The source pod is read again: its node and UID are what the Send acts on, or the agent's
   * refusal if it is gone.
   */
  private VfioNodeTaskSpec sendSpec(VfioMigration migration, VfioNodeTask receive) {
    Pod source = steps.pod(migration, migration.getSpec().getSource().getPodName());
    return TaskSpecs.send(
        migration.getSpec(),
        receive,
        source == null ? migration.getStatus().getSourceNode() : source.getSpec().getNodeName(),
        source == null ? null : source.getMetadata().getUid());
  }
}
