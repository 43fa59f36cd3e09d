package dev.vfio.operator.migration;

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
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Live, between agents (transport Auto or Direct): a {@code Receive} task on the target's node
 * first, then, once it listens, a {@code Send} task on the source's node with its endpoint and a
 * per-migration token. Any failure before the target runs cancels the other side, whose agent rolls
 * its devices back: a failed migration leaves the workload running where it was.
 */
final class LiveFlow implements MigrationFlow {
  static final String RECEIVE = "receive";
  static final String SEND = "send";
  private static final Logger LOG = LoggerFactory.getLogger(LiveFlow.class);

  private final FlowSteps steps;
  private final Supplier<String> tokens;

  /** {@code tokens} makes the secret a Send shows its Receive, a new one for each migration. */
  LiveFlow(FlowSteps steps, Supplier<String> tokens) {
    this.steps = steps;
    this.tokens = tokens;
  }

  @Override
  public List<String> roles() {
    return List.of(RECEIVE, SEND);
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
    if (receive == null) {
      return steps.lost(migration, List.of(send), now);
    }
    // Only this: which of source and target runs after a lost side is for the switchover to decide
    // (issue 12).
    var lost =
        steps.nodeLost(migration, tasks.values(), "the other side is left to its own agent", now);
    if (lost.isPresent()) {
      return lost.get();
    }
    List<VfioNodeTask> both = Stream.of(receive, send).filter(Objects::nonNull).toList();
    if (both.stream().anyMatch(FlowSteps::failed)) {
      return rollBack(migration, receive, send, both, now);
    }
    if (send != null
        && NodeTasks.phase(receive) == TaskPhase.Succeeded
        && NodeTasks.phase(send) == TaskPhase.Succeeded) {
      return steps.succeeded(
          migration,
          send,
          receive,
          FlowSteps.downtime(send.getStatus().getStoppedAt(), receive.getStatus().getResumedAt()),
          now);
    }
    var rollingBack = steps.watchdog(migration, both, receive.getSpec().getPodUid(), now);
    if (rollingBack.isPresent()) {
      return rollingBack.get();
    }
    Plan<VfioMigrationStatus> next = steps.running(migration, send, send == null ? receive : send);
    if (send == null && receive.getStatus() != null && receive.getStatus().getEndpoint() != null) {
      LOG.info(
          "receiver listens on {}:{}; sending",
          receive.getStatus().getEndpoint().getHost(),
          receive.getStatus().getEndpoint().getPort());
      next = next.with(new TaskAction.Create(SEND, sendSpec(migration, receive)));
    }
    return next;
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
