package dev.vfio.operator.snapshot;

import dev.vfio.api.v1alpha1.Durations;
import dev.vfio.api.v1alpha1.NodeDevice;
import dev.vfio.api.v1alpha1.Reason;
import dev.vfio.api.v1alpha1.SnapshotPhase;
import dev.vfio.api.v1alpha1.TaskPhase;
import dev.vfio.api.v1alpha1.VfioNodeTask;
import dev.vfio.api.v1alpha1.VfioSnapshot;
import dev.vfio.api.v1alpha1.VfioSnapshotStatus;
import dev.vfio.operator.config.OperatorConfig;
import dev.vfio.operator.events.EventRecorder;
import dev.vfio.operator.events.Notice;
import dev.vfio.operator.metrics.Ending;
import dev.vfio.operator.metrics.OperatorMetrics;
import dev.vfio.operator.preflight.AgentNodes;
import dev.vfio.operator.preflight.NodeChecks;
import dev.vfio.operator.preflight.PodOperations;
import dev.vfio.operator.preflight.Rejection;
import dev.vfio.operator.preflight.StoppedSources;
import dev.vfio.operator.reconcile.Plan;
import dev.vfio.operator.reconcile.PlanRunner;
import dev.vfio.operator.status.StatusWriter;
import dev.vfio.operator.tasks.LostNodes;
import dev.vfio.operator.tasks.NodeTasks;
import dev.vfio.operator.tasks.TaskAction;
import dev.vfio.operator.tasks.TaskCache;
import dev.vfio.operator.tasks.TaskInformer;
import dev.vfio.operator.tasks.TaskSpecs;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.javaoperatorsdk.operator.api.reconciler.Cleaner;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.DeleteControl;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * Reconciles {@link VfioSnapshot}: preflight, one {@code Save} task on the pod's node, its progress
 * mirrored into status, terminal Ready or Failed. Deletion ({@link SnapshotDeletion}) cancels
 * in-flight work and, with deletionPolicy Delete, removes the blobs through a {@code DeleteBlobs}
 * task.
 *
 * <p>Each pass observes (the snapshot, its task from the watch), decides a {@link Plan} (status,
 * task changes, Events, when to look again) and hands it to the {@link PlanRunner}, which writes
 * the status once.
 *
 * <p>Somewhat past 300 lines: a snapshot's whole life (start, follow, expire) reads top to bottom
 * here, as issue 11 asked; deletion is {@link SnapshotDeletion}'s.
 */
@ControllerConfiguration(name = "vfiosnapshot")
public class VfioSnapshotReconciler implements Reconciler<VfioSnapshot>, Cleaner<VfioSnapshot> {
  static final String SAVE = "save";
  static final String DELETE_BLOBS = "delete-blobs";
  private static final Logger LOG = LoggerFactory.getLogger(VfioSnapshotReconciler.class);
  static final Duration POLL = Duration.ofSeconds(5);
  static final Duration CLEANUP_POLL = Duration.ofSeconds(2);
  private static final Duration INVENTORY_POLL = Duration.ofSeconds(1);

  /** Past a deadline or a ttl: the pass that acts on it comes after it, not a clock tick before. */
  private static final Duration PAST = Duration.ofMillis(10);

  private final KubernetesClient client;
  private final OperatorConfig config;
  private final SnapshotPreflight preflight;
  private final AgentNodes<VfioSnapshot> nodes;
  private final StoppedSources<VfioSnapshot> stoppedSources;
  private final PodOperations podOperations;
  private final SnapshotAdmission admission;
  private final TaskInformer<VfioSnapshot> taskInformer = new TaskInformer<>();
  private final NodeTasks tasks;
  private final LostNodes lostNodes;
  private final SnapshotDeletion deletion;
  private final PlanRunner<VfioSnapshot, VfioSnapshotStatus> runner;
  private final EventRecorder events;
  private final Clock clock;

  public VfioSnapshotReconciler(
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
  VfioSnapshotReconciler(
      KubernetesClient client,
      OperatorConfig config,
      Clock clock,
      OperatorMetrics metrics,
      PodOperations podOperations,
      TaskCache taskCache,
      StatusWriter.RecentWrites<VfioSnapshot> writes) {
    this.client = client;
    this.podOperations = podOperations;
    this.admission =
        new SnapshotAdmission(config.maxSnapshots(), config.maxSnapshotsPerNamespace());
    this.config = config;
    this.preflight = new SnapshotPreflight(config);
    this.nodes = new AgentNodes<>(client);
    this.stoppedSources = new StoppedSources<>(client);
    this.tasks = new NodeTasks(client, taskCache == null ? taskInformer : taskCache);
    this.lostNodes = new LostNodes(config.agentHeartbeatTimeout(), nodes::get);
    this.deletion =
        new SnapshotDeletion(
            config, tasks, lostNodes, nodes, new NodeChecks(config.agentHeartbeatTimeout()));
    this.events = new EventRecorder(client, clock);
    this.runner = new PlanRunner<>(tasks, new StatusWriter<>(client, writes), events, metrics);
    this.clock = clock;
  }

  @Override
  public List<EventSource<?, VfioSnapshot>> prepareEventSources(
      EventSourceContext<VfioSnapshot> context) {
    return List.of(
        taskInformer.eventSource(context, "snapshot-tasks"),
        nodes.eventSource(context),
        stoppedSources.eventSource(context));
  }

  @Override
  public UpdateControl<VfioSnapshot> reconcile(
      VfioSnapshot snapshot, Context<VfioSnapshot> context) {
    try (var ignored = MDC.putCloseable("resource", describe(snapshot))) {
      Instant now = clock.instant();
      VfioSnapshotStatus status = snapshot.getStatus();
      SnapshotPhase phase = status == null ? null : status.getPhase();
      if (phase == SnapshotPhase.Failed) {
        ended(snapshot);
        return UpdateControl.noUpdate();
      }
      if (phase == SnapshotPhase.Ready) {
        ended(snapshot);
        return expireAfterTtl(snapshot, now);
      }
      String taskName = status == null ? null : status.getTaskName();
      Optional<VfioNodeTask> task = tasks.find(snapshot, SAVE);
      Plan<VfioSnapshotStatus> plan;
      if (task.isPresent()) {
        // Held again after an operator restart; a no-op otherwise.
        podOperations.hold(
            PodOperations.owner(snapshot),
            snapshot.getMetadata().getNamespace(),
            PodOperations.pods(snapshot));
        admission.hold(snapshot);
        plan =
            follow(
                taskName == null ? adopting(snapshot, task.get(), now) : snapshot, task.get(), now);
      } else if (taskName != null) {
        plan =
            failed(
                snapshot,
                Reason.TASK_LOST,
                "task " + taskName + " disappeared before it finished: create the snapshot again",
                now);
      } else {
        plan = start(snapshot, now);
      }
      SnapshotPhase next = plan.status() == null ? null : plan.status().getPhase();
      if (next == SnapshotPhase.Ready || next == SnapshotPhase.Failed) {
        ended(snapshot);
      }
      return runner.reconciled(snapshot, plan, context);
    }
  }

  private Plan<VfioSnapshotStatus> start(VfioSnapshot snapshot, Instant now) {
    String namespace = snapshot.getMetadata().getNamespace();
    var outcome =
        preflight.check(
            snapshot,
            pod -> client.pods().inNamespace(namespace).withName(pod).get(),
            nodes::get,
            stoppedSources::migrations,
            now);
    if (outcome instanceof SnapshotPreflight.Rejected rejected) {
      return failed(snapshot, rejected.rejection(), now);
    }
    if (outcome instanceof SnapshotPreflight.Waiting waiting) {
      return Plan.of(SnapshotStatuses.pending(snapshot, waiting.why(), now))
          .requeue(INVENTORY_POLL);
    }
    SnapshotPlan accepted = ((SnapshotPreflight.Accepted) outcome).plan();
    String full = admission.admit(snapshot);
    if (full != null) {
      return Plan.of(
              SnapshotStatuses.pending(
                  snapshot, new Rejection(Reason.WAITING_FOR_CAPACITY, full), now))
          .requeue(POLL);
    }
    Rejection busy =
        podOperations.claim(PodOperations.owner(snapshot), namespace, PodOperations.pods(snapshot));
    if (busy != null) {
      // Its slot goes to a snapshot that can start now.
      admission.release(snapshot);
      return Plan.of(SnapshotStatuses.pending(snapshot, busy, now)).requeue(POLL);
    }
    String taskName = NodeTasks.name(snapshot, SAVE);
    LOG.info("starting task {} on node {}", taskName, accepted.nodeName());
    return Plan.of(SnapshotStatuses.started(snapshot, accepted, taskName, now))
        .with(
            new TaskAction.Create(
                SAVE,
                TaskSpecs.snapshotSave(
                    snapshot,
                    accepted.pod(),
                    accepted.devices().stream().map(NodeDevice::getAddress).toList(),
                    accepted.storageClaim(),
                    now.plus(accepted.timeout()))))
        .notice(
            Notice.normal(
                "Started",
                "saving "
                    + accepted.devices().size()
                    + " device(s) of pod "
                    + accepted.pod().getMetadata().getName()
                    + " on node "
                    + accepted.nodeName()))
        .requeue(POLL);
  }

  /**
   * The snapshot as if its status named {@code task}, which the operator created and then stopped
   * before recording it.
   */
  private static VfioSnapshot adopting(VfioSnapshot snapshot, VfioNodeTask task, Instant now) {
    LOG.info("taking over task {}, which the status does not name", task.getMetadata().getName());
    VfioSnapshot adopted = Serialization.clone(snapshot);
    adopted.setStatus(SnapshotStatuses.adopted(snapshot, task, now));
    return adopted;
  }

  private Plan<VfioSnapshotStatus> follow(VfioSnapshot snapshot, VfioNodeTask task, Instant now) {
    TaskPhase phase = NodeTasks.phase(task);
    Instant deadline = deadline(snapshot);
    boolean expired = deadline != null && !now.isBefore(deadline);
    switch (phase) {
      case Succeeded -> {
        VfioSnapshotStatus ready = SnapshotStatuses.ready(snapshot, task, now);
        String ttl = snapshot.getSpec().getTtl();
        return Plan.of(ready)
            .notice(
                Notice.normal(
                    "Ready",
                    "saved "
                        + ready.getSize()
                        + " of device state from "
                        + ready.getDeviceCount()
                        + " device(s)"))
            .ending(
                new Ending(
                    "Ready", Reason.SUCCEEDED, ready.getDowntimeMillis(), ready.getTotalBytes()))
            .requeue(ttl == null ? null : Durations.parse(ttl, Duration.ZERO).plus(PAST));
      }
      case Failed, Cancelled -> {
        Reason reason =
            NodeTasks.reason(task)
                .filter(r -> phase == TaskPhase.Failed)
                .orElse(expired ? Reason.TIMEOUT : Reason.CANCELLED);
        String message =
            NodeTasks.message(task) != null && phase == TaskPhase.Failed
                ? NodeTasks.message(task)
                : expired
                    ? "not Ready within "
                        + snapshot.getSpec().getTimeout()
                        + "; the devices were "
                        + "rolled back to RUNNING: raise spec.timeout or check the node agent's logs"
                    : "the task was cancelled; the devices were rolled back to RUNNING";
        return failed(snapshot, reason, message, now);
      }
      default -> {
        Optional<LostNodes.Lost> lost = lostNodes.lost(List.of(task), now);
        if (lost.isPresent()) {
          return failed(
              snapshot,
              lost.get().reason(),
              lost.get().message() + "; if the agent comes back it returns the devices to RUNNING",
              now);
        }
        if (expired) {
          return Plan.of(
                  SnapshotStatuses.rollingBack(
                      snapshot, Reason.TIMEOUT, "timeout reached; rolling the devices back", now))
              .with(new TaskAction.Cancel(task))
              .requeue(CLEANUP_POLL);
        }
        Duration untilDeadline = deadline == null ? POLL : Duration.between(now, deadline);
        return Plan.of(SnapshotStatuses.progressed(snapshot, task, now))
            .requeue(untilDeadline.compareTo(POLL) < 0 ? untilDeadline.plus(PAST) : POLL);
      }
    }
  }

  private static Plan<VfioSnapshotStatus> failed(
      VfioSnapshot snapshot, Rejection why, Instant now) {
    return failed(snapshot, why.reason(), why.message(), now);
  }

  private static Plan<VfioSnapshotStatus> failed(
      VfioSnapshot snapshot, Reason reason, String message, Instant now) {
    LOG.info("failed: {}: {}", reason, message);
    return Plan.of(SnapshotStatuses.failed(snapshot, reason, message, now))
        .notice(Notice.warning(reason, message))
        .ending(new Ending("Failed", reason, null, null));
  }

  private UpdateControl<VfioSnapshot> expireAfterTtl(VfioSnapshot snapshot, Instant now) {
    Instant expiry = ttlExpiry(snapshot);
    if (expiry == null) {
      return UpdateControl.noUpdate();
    }
    if (!now.isBefore(expiry)) {
      LOG.info("ttl {} elapsed, deleting", snapshot.getSpec().getTtl());
      events.record(
          snapshot,
          Notice.normal(
              "Expired", "ttl " + snapshot.getSpec().getTtl() + " elapsed; deleting the snapshot"));
      client.resource(snapshot).delete();
      return UpdateControl.noUpdate();
    }
    return UpdateControl.<VfioSnapshot>noUpdate()
        .rescheduleAfter(Duration.between(now, expiry).plus(PAST));
  }

  private static Instant ttlExpiry(VfioSnapshot snapshot) {
    String ttl = snapshot.getSpec().getTtl();
    String completed = snapshot.getStatus().getCompletionTime();
    if (ttl == null || completed == null) {
      return null;
    }
    return Instant.parse(completed).plus(Durations.parse(ttl, Duration.ZERO));
  }

  private Instant deadline(VfioSnapshot snapshot) {
    String started = snapshot.getStatus() == null ? null : snapshot.getStatus().getStartTime();
    if (started == null) {
      return null;
    }
    return Instant.parse(started)
        .plus(Durations.parse(snapshot.getSpec().getTimeout(), config.defaultTimeout()));
  }

  /** Gives back the snapshot's admission slot and its pod: it ended, or no longer runs. */
  private void ended(VfioSnapshot snapshot) {
    admission.release(snapshot);
    podOperations.release(PodOperations.owner(snapshot));
  }

  @Override
  public DeleteControl cleanup(VfioSnapshot snapshot, Context<VfioSnapshot> context) {
    try (var ignored = MDC.putCloseable("resource", describe(snapshot))) {
      Plan<VfioSnapshotStatus> plan = deletion.plan(snapshot, clock.instant());
      if (plan.status() == null) {
        // No save in flight any more: what is left (deleting blobs) does not touch the pod.
        ended(snapshot);
      }
      return runner.cleaned(snapshot, plan, context);
    }
  }

  private static String describe(VfioSnapshot snapshot) {
    return "vfiosnapshot/"
        + snapshot.getMetadata().getNamespace()
        + "/"
        + snapshot.getMetadata().getName();
  }
}
