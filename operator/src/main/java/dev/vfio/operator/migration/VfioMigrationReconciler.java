package dev.vfio.operator.migration;

import dev.vfio.api.v1alpha1.MigrationPhase;
import dev.vfio.api.v1alpha1.Reason;
import dev.vfio.api.v1alpha1.Transport;
import dev.vfio.api.v1alpha1.VfioMigration;
import dev.vfio.api.v1alpha1.VfioMigrationSpec;
import dev.vfio.api.v1alpha1.VfioMigrationStatus;
import dev.vfio.api.v1alpha1.VfioNodeTask;
import dev.vfio.api.v1alpha1.VfioSnapshot;
import dev.vfio.operator.config.OperatorConfig;
import dev.vfio.operator.events.EventRecorder;
import dev.vfio.operator.metrics.OperatorMetrics;
import dev.vfio.operator.preflight.AgentNodes;
import dev.vfio.operator.preflight.PodOperations;
import dev.vfio.operator.preflight.Rejection;
import dev.vfio.operator.reconcile.Plan;
import dev.vfio.operator.reconcile.PlanRunner;
import dev.vfio.operator.status.StatusWriter;
import dev.vfio.operator.tasks.LostNodes;
import dev.vfio.operator.tasks.NodeTasks;
import dev.vfio.operator.tasks.TaskAction;
import dev.vfio.operator.tasks.TaskCache;
import dev.vfio.operator.tasks.TaskInformer;
import dev.vfio.operator.transport.AgentPods;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.api.reconciler.Cleaner;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.DeleteControl;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Instant;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.slf4j.MDC;

/**
 * Reconciles {@link VfioMigration}: picks the flow of its mode from the spec — {@link RestoreFlow}
 * from a snapshot, {@link StorageFlow} through a blob, {@link LiveFlow} agent to agent — starts it
 * once preflight and admission let it, and otherwise hands the flow the tasks of its roles. A
 * migration that fails marks its target pod, if that pod asked to be a restore target.
 */
@ControllerConfiguration(name = "vfiomigration")
public class VfioMigrationReconciler implements Reconciler<VfioMigration>, Cleaner<VfioMigration> {
  private final KubernetesClient client;
  private final MigrationPreflight preflight;
  private final MigrationAdmission admission;
  private final PodOperations podOperations;
  private final AgentNodes<VfioMigration> nodes;
  private final TaskInformer<VfioMigration> taskInformer = new TaskInformer<>();
  private final NodeTasks tasks;
  private final LostNodes lostNodes;
  private final PlanRunner<VfioMigration, VfioMigrationStatus> runner;
  private final RestoreStatusMarker marker;
  private final FlowSteps steps;
  private final RestoreFlow restore;
  private final LiveFlow live;
  private final StorageFlow storage;
  private final Clock clock;

  public VfioMigrationReconciler(
      KubernetesClient client,
      OperatorConfig config,
      Clock clock,
      OperatorMetrics metrics,
      PodOperations podOperations) {
    this(client, config, clock, metrics, podOperations, null, StatusWriter.primaryCache());
  }

  /**
   * With the tasks read from {@code taskCache} rather than the watch, and the status writes
   * remembered by {@code writes}.
   */
  VfioMigrationReconciler(
      KubernetesClient client,
      OperatorConfig config,
      Clock clock,
      OperatorMetrics metrics,
      PodOperations podOperations,
      TaskCache taskCache,
      StatusWriter.RecentWrites<VfioMigration> writes) {
    this.client = client;
    this.podOperations = podOperations;
    this.preflight = new MigrationPreflight(config);
    this.admission = new MigrationAdmission(config.maxMigrations(), config.maxMigrationsPerNode());
    this.nodes = new AgentNodes<>(client);
    this.tasks = new NodeTasks(client, taskCache == null ? taskInformer : taskCache);
    this.lostNodes = new LostNodes(config.agentHeartbeatTimeout(), nodes::get);
    this.runner =
        new PlanRunner<>(
            tasks, new StatusWriter<>(client, writes), new EventRecorder(client, clock), metrics);
    this.marker = new RestoreStatusMarker(client);
    this.steps =
        new FlowSteps(
            config.defaultTimeout(),
            (namespace, name) -> client.pods().inNamespace(namespace).withName(name).get(),
            lostNodes);
    this.restore = new RestoreFlow(steps);
    this.live =
        new LiveFlow(
            steps, new Tokens(), new AgentPods(client, config.agentServiceAccount())::addresses);
    this.storage = new StorageFlow(steps, config.defaultStorageClaim());
    this.clock = clock;
  }

  @Override
  public List<EventSource<?, VfioMigration>> prepareEventSources(
      EventSourceContext<VfioMigration> context) {
    return List.of(
        taskInformer.eventSource(context, "migration-tasks"), nodes.eventSource(context));
  }

  @Override
  public UpdateControl<VfioMigration> reconcile(
      VfioMigration migration, Context<VfioMigration> context) {
    try (var ignored = MDC.putCloseable("resource", describe(migration))) {
      Instant now = clock.instant();
      MigrationPhase phase =
          migration.getStatus() == null ? null : migration.getStatus().getPhase();
      if (phase == MigrationPhase.Succeeded || phase == MigrationPhase.Failed) {
        admission.release(migration);
        podOperations.release(PodOperations.owner(migration));
        return UpdateControl.noUpdate();
      }
      if (migration.getSpec() == null) {
        // A CRD that does not require a spec, such as an older one, lets the API server store this.
        return run(
            migration,
            steps.failed(
                migration,
                Reason.INVALID_SPEC,
                "spec is required: create the migration again with a spec",
                now),
            context);
      }
      MigrationFlow flow = flowOf(migration.getSpec());
      Map<String, VfioNodeTask> observed = observe(migration, flow);
      Plan<VfioMigrationStatus> plan;
      if (!observed.isEmpty()) {
        // Held again after an operator restart; a no-op otherwise.
        podOperations.hold(
            PodOperations.owner(migration),
            migration.getMetadata().getNamespace(),
            PodOperations.pods(migration));
        plan = flow.follow(migration, observed, now);
      } else if (phase == MigrationPhase.Running) {
        plan = steps.lost(migration, List.of(), now);
      } else {
        plan = start(migration, flow, context, now);
      }
      VfioMigrationStatus next = plan.status();
      if (next != null && next.getPhase() != MigrationPhase.Pending) {
        next.setSourceState(flow.sourceState(observed));
      }
      return run(migration, plan, context);
    }
  }

  private MigrationFlow flowOf(VfioMigrationSpec spec) {
    if (spec.getSource() != null && spec.getSource().getSnapshotName() != null) {
      return restore;
    }
    return spec.transportOrDefault() == Transport.Storage ? storage : live;
  }

  /** The tasks of the flow's roles that exist, from the watch. */
  private Map<String, VfioNodeTask> observe(VfioMigration migration, MigrationFlow flow) {
    Map<String, VfioNodeTask> observed = new LinkedHashMap<>();
    for (String role : flow.roles()) {
      tasks.find(migration, role).ifPresent(task -> observed.put(role, task));
    }
    return observed;
  }

  private Plan<VfioMigrationStatus> start(
      VfioMigration migration, MigrationFlow flow, Context<VfioMigration> context, Instant now) {
    String namespace = migration.getMetadata().getNamespace();
    var outcome =
        preflight.check(
            migration,
            pod -> client.pods().inNamespace(namespace).withName(pod).get(),
            nodes::get,
            snapshot ->
                client
                    .resources(VfioSnapshot.class)
                    .inNamespace(namespace)
                    .withName(snapshot)
                    .get(),
            () -> context.getPrimaryCache().list().toList(),
            now);
    if (outcome instanceof MigrationPreflight.Rejected rejected) {
      return steps.failed(
          migration, rejected.rejection().reason(), rejected.rejection().message(), now);
    }
    if (outcome instanceof MigrationPreflight.Waiting waiting) {
      return steps.waiting(migration, waiting.why(), now);
    }
    MigrationPlan plan = ((MigrationPreflight.Accepted) outcome).plan();
    String busy =
        admission.admit(
            new MigrationAdmission.Claim(
                MigrationAdmission.key(migration), plan.sourceNode(), plan.targetNode()),
            context.getPrimaryCache().list().toList());
    if (busy != null) {
      return steps.waiting(migration, new Rejection(Reason.WAITING_FOR_CAPACITY, busy), now);
    }
    Rejection podBusy =
        podOperations.claim(
            PodOperations.owner(migration), namespace, PodOperations.pods(migration));
    if (podBusy != null) {
      // Its slot goes to a migration that can start now.
      admission.release(migration);
      return steps.waiting(migration, podBusy, now);
    }
    return flow.start(migration, plan, now);
  }

  /**
   * A plan ending the migration releases its admission and, once, tells the target pod the outcome.
   */
  private UpdateControl<VfioMigration> run(
      VfioMigration migration, Plan<VfioMigrationStatus> plan, Context<VfioMigration> context) {
    MigrationPhase next = plan.status() == null ? null : plan.status().getPhase();
    if (next == MigrationPhase.Succeeded || next == MigrationPhase.Failed) {
      admission.release(migration);
      podOperations.release(PodOperations.owner(migration));
      MigrationPhase stored =
          migration.getStatus() == null ? null : migration.getStatus().getPhase();
      if (next != stored) {
        marker.mark(migration, next.name());
      }
    }
    return runner.reconciled(migration, plan, context);
  }

  @Override
  public DeleteControl cleanup(VfioMigration migration, Context<VfioMigration> context) {
    try (var ignored = MDC.putCloseable("resource", describe(migration))) {
      List<VfioNodeTask> owned =
          migration.getSpec() == null
              ? List.of()
              : List.copyOf(observe(migration, flowOf(migration.getSpec())).values());
      Instant now = clock.instant();
      List<TaskAction> cancels = FlowSteps.onDeletion(owned);
      // A task on a lost node is not waited for: its agent may never answer.
      if (owned.stream().anyMatch(t -> !NodeTasks.isTerminal(t) && !lostNodes.isLost(t, now))) {
        return runner.cleaned(
            migration,
            steps
                .rollingBack(
                    migration,
                    Reason.DELETING,
                    FlowSteps.switchoverCommitted(owned)
                        ? "deleted after the switchover was committed; waiting for the target to"
                            + " run the state"
                        : "deleted while in flight; waiting for the agents to roll the devices back",
                    now)
                .withAll(cancels),
            context);
      }
      if (migration.getStatus() != null
          && migration.getStatus().getPhase() == MigrationPhase.Running) {
        marker.mark(migration, FlowSteps.deletedAs(owned).name());
      }
      admission.release(migration);
      podOperations.release(PodOperations.owner(migration));
      return runner.cleaned(
          migration,
          Plan.<VfioMigrationStatus>of(null)
              .withAll(
                  owned.stream()
                      .map(t -> new TaskAction.Delete(t.getMetadata().getName()))
                      .toList()),
          context);
    }
  }

  private static String describe(VfioMigration migration) {
    return "vfiomigration/"
        + migration.getMetadata().getNamespace()
        + "/"
        + migration.getMetadata().getName();
  }

  /** A new secret for each live migration, shared by its Send and its Receive. */
  private static final class Tokens implements Supplier<String> {
    private final SecureRandom random = new SecureRandom();

    @Override
    public String get() {
      byte[] token = new byte[32];
      random.nextBytes(token);
      return Base64.getUrlEncoder().withoutPadding().encodeToString(token);
    }
  }
}
