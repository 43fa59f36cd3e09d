package dev.vfio.operator.snapshot;

import dev.vfio.api.v1alpha1.AfterSnapshot;
import dev.vfio.api.v1alpha1.Compression;
import dev.vfio.api.v1alpha1.Digest;
import dev.vfio.api.v1alpha1.DeletionPolicy;
import dev.vfio.api.v1alpha1.Durations;
import dev.vfio.api.v1alpha1.NodeDevice;
import dev.vfio.api.v1alpha1.QuiesceMode;
import dev.vfio.api.v1alpha1.Reasons;
import dev.vfio.api.v1alpha1.SnapshotPhase;
import dev.vfio.api.v1alpha1.TaskOperation;
import dev.vfio.api.v1alpha1.TaskPhase;
import dev.vfio.api.v1alpha1.VfioNode;
import dev.vfio.api.v1alpha1.VfioNodeTask;
import dev.vfio.api.v1alpha1.VfioNodeTaskSpec;
import dev.vfio.api.v1alpha1.VfioSnapshot;
import dev.vfio.api.v1alpha1.VfioSnapshotStatus;
import dev.vfio.operator.config.OperatorConfig;
import dev.vfio.operator.events.EventRecorder;
import dev.vfio.operator.metrics.OperatorMetrics;
import dev.vfio.operator.preflight.NodeChecks;
import dev.vfio.operator.status.StatusPatcher;
import dev.vfio.operator.tasks.NodeTasks;
import dev.vfio.operator.tasks.TaskParents;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Cleaner;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.DeleteControl;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * Reconciles {@link VfioSnapshot}: preflight, one {@code Save} task on the pod's node, its
 * progress mirrored into status, terminal Ready or Failed. Deletion cancels in-flight work and,
 * with deletionPolicy Delete, removes the blobs through a {@code DeleteBlobs} task.
 */
@ControllerConfiguration(name = "vfiosnapshot")
public class VfioSnapshotReconciler implements Reconciler<VfioSnapshot>, Cleaner<VfioSnapshot> {
  static final String SAVE = "save";
  static final String DELETE_BLOBS = "delete-blobs";
  private static final Logger LOG = LoggerFactory.getLogger(VfioSnapshotReconciler.class);
  private static final Duration POLL = Duration.ofSeconds(5);
  private static final Duration CLEANUP_POLL = Duration.ofSeconds(2);

  private final KubernetesClient client;
  private final OperatorConfig config;
  private final SnapshotPreflight preflight;
  private final NodeChecks nodeChecks;
  private final NodeTasks tasks;
  private final StatusPatcher statuses;
  private final EventRecorder events;
  private final Clock clock;
  private final OperatorMetrics metrics;
  /** The VfioNodes as a watch sees them; null until the event sources are prepared. */
  private InformerEventSource<VfioNode, VfioSnapshot> nodes;

  public VfioSnapshotReconciler(KubernetesClient client, OperatorConfig config, Clock clock, OperatorMetrics metrics) {
    this.client = client;
    this.config = config;
    this.preflight = new SnapshotPreflight(config);
    this.nodeChecks = new NodeChecks(config.agentHeartbeatTimeout());
    this.tasks = new NodeTasks(client);
    this.statuses = new StatusPatcher(client);
    this.events = new EventRecorder(client, clock);
    this.clock = clock;
    this.metrics = metrics;
  }

  @Override
  public List<EventSource<?, VfioSnapshot>> prepareEventSources(EventSourceContext<VfioSnapshot> context) {
    var configuration = InformerEventSourceConfiguration.from(VfioNodeTask.class, VfioSnapshot.class)
        .withSecondaryToPrimaryMapper(TaskParents.mapperFor(VfioSnapshot.class))
        .build();
    // Read by the preflight, never a trigger: a heartbeat concerns no snapshot in particular.
    var nodeConfiguration = InformerEventSourceConfiguration.from(VfioNode.class, VfioSnapshot.class)
        .withName("vfionodes")
        .withSecondaryToPrimaryMapper(node -> Set.of())
        .build();
    nodes = new InformerEventSource<>(nodeConfiguration, context);
    return List.of(new InformerEventSource<>(configuration, context), nodes);
  }

  /**
   * A node's VfioNode from the watch, without a request; read from the API server only when the
   * watch has not seen it yet, so that a lagging cache never refuses a snapshot for want of an agent.
   */
  private VfioNode node(String name) {
    Optional<VfioNode> cached = nodes == null ? Optional.empty() : nodes.get(new ResourceID(name));
    return cached.orElseGet(() -> client.resources(VfioNode.class).withName(name).get());
  }

  @Override
  public UpdateControl<VfioSnapshot> reconcile(VfioSnapshot cached, Context<VfioSnapshot> context) {
    VfioSnapshot snapshot = statuses.fresh(cached);
    try (var ignored = MDC.putCloseable("resource", describe(snapshot))) {
      Instant now = clock.instant();
      VfioSnapshotStatus status = snapshot.getStatus();
      SnapshotPhase phase = status == null ? null : status.getPhase();
      if (phase == SnapshotPhase.Ready) {
        return expireAfterTtl(snapshot, now);
      }
      if (phase == SnapshotPhase.Failed) {
        return UpdateControl.noUpdate();
      }
      String taskName = status == null ? null : status.getTaskName();
      // Until the status names a task, the cache is asked only: start() creates the task or, if
      // one exists that the cache has not shown yet, gets it back from the create.
      Optional<VfioNodeTask> task = taskName == null
          ? tasks.cached(snapshot, context, SAVE)
          : tasks.find(snapshot, context, SAVE);
      if (task.isEmpty()) {
        return taskName != null
            ? fail(snapshot, Reasons.TASK_LOST, "task " + taskName
                + " disappeared before it finished: create the snapshot again", now)
            : start(snapshot, context, now);
      }
      return follow(snapshot, task.get(), now);
    }
  }

  private UpdateControl<VfioSnapshot> start(VfioSnapshot snapshot, Context<VfioSnapshot> context, Instant now) {
    String namespace = snapshot.getMetadata().getNamespace();
    var outcome = preflight.check(snapshot,
        pod -> client.pods().inNamespace(namespace).withName(pod).get(),
        this::node, now);
    if (!(outcome instanceof SnapshotPreflight.Accepted)) {
      // An operator stopped between creating the task and recording it in the status left a task
      // the cache may not show yet: follow it rather than refuse or wait on a new check.
      Optional<VfioNodeTask> created = tasks.find(snapshot, context, SAVE);
      if (created.isPresent()) {
        return follow(snapshot, created.get(), now);
      }
    }
    if (outcome instanceof SnapshotPreflight.Rejected rejected) {
      return fail(snapshot, rejected.rejection().reason(), rejected.rejection().message(), now);
    }
    if (outcome instanceof SnapshotPreflight.Waiting waiting) {
      statuses.patchIfChanged(snapshot, SnapshotStatuses.pending(snapshot, waiting.why(), now));
      return UpdateControl.<VfioSnapshot>noUpdate().rescheduleAfter(Duration.ofSeconds(1));
    }
    SnapshotPlan plan = ((SnapshotPreflight.Accepted) outcome).plan();
    VfioNodeTask task = tasks.create(snapshot, SAVE, saveSpec(snapshot, plan, now), true);
    statuses.patchIfChanged(snapshot, SnapshotStatuses.started(snapshot, plan, task.getMetadata().getName(), now));
    events.normal(snapshot, "Started", "saving " + plan.devices().size() + " device(s) of pod "
        + plan.pod().getMetadata().getName() + " on node " + plan.nodeName());
    LOG.info("started task {} on node {}", task.getMetadata().getName(), plan.nodeName());
    return UpdateControl.<VfioSnapshot>noUpdate().rescheduleAfter(POLL);
  }

  private VfioNodeTaskSpec saveSpec(VfioSnapshot snapshot, SnapshotPlan plan, Instant now) {
    var spec = snapshot.getSpec();
    VfioNodeTaskSpec task = new VfioNodeTaskSpec();
    task.setOperation(TaskOperation.Save);
    task.setNodeName(plan.nodeName());
    task.setPodName(plan.pod().getMetadata().getName());
    task.setPodUid(plan.pod().getMetadata().getUid());
    task.setDevices(plan.devices().stream().map(NodeDevice::getAddress).toList());
    task.setStorageClaim(plan.storageClaim());
    task.setBlobDirectory(snapshot.getMetadata().getNamespace() + "/" + snapshot.getMetadata().getName());
    task.setQuiesce(spec.getQuiesce() == null ? QuiesceMode.Freeze : spec.getQuiesce());
    task.setAfterSave(spec.getAfterSnapshot() == null ? AfterSnapshot.Resume : spec.getAfterSnapshot());
    task.setCompression(spec.getCompression() == null ? Compression.None : spec.getCompression());
    task.setDigest(spec.getDigest() == null ? Digest.None : spec.getDigest());
    task.setPrecopy(spec.getPrecopy());
    task.setHooks(spec.getHooks());
    task.setDeadline(now.plus(plan.timeout()).toString());
    return task;
  }

  private UpdateControl<VfioSnapshot> follow(VfioSnapshot snapshot, VfioNodeTask task, Instant now) {
    TaskPhase phase = NodeTasks.phase(task);
    Instant deadline = deadline(snapshot);
    boolean expired = deadline != null && !now.isBefore(deadline);
    switch (phase) {
      case Succeeded -> {
        var ready = SnapshotStatuses.ready(snapshot, task, now);
        if (statuses.patchIfChanged(snapshot, ready)) {
          events.normal(snapshot, "Ready", "saved " + ready.getSize() + " of device state from "
              + ready.getDeviceCount() + " device(s)");
          metrics.ended("VfioSnapshot", "Ready", Reasons.SUCCEEDED, ready.getDowntimeMillis(), ready.getTotalBytes());
        }
        return ttlReschedule(snapshot, now);
      }
      case Failed, Cancelled -> {
        String reason = task.getStatus().getReason();
        if (phase == TaskPhase.Cancelled || reason == null) {
          reason = expired ? Reasons.TIMEOUT : Reasons.CANCELLED;
        }
        String message = task.getStatus().getMessage() != null && phase == TaskPhase.Failed
            ? task.getStatus().getMessage()
            : expired ? "not Ready within " + snapshot.getSpec().getTimeout() + "; the devices were "
                + "rolled back to RUNNING: raise spec.timeout or check the node agent's logs"
                : "the task was cancelled; the devices were rolled back to RUNNING";
        return fail(snapshot, reason, message, now);
      }
      default -> {
        if (expired) {
          tasks.cancel(task);
          statuses.patchIfChanged(snapshot, SnapshotStatuses.rollingBack(snapshot, Reasons.TIMEOUT,
              "timeout reached; rolling the devices back", now));
          return UpdateControl.<VfioSnapshot>noUpdate().rescheduleAfter(CLEANUP_POLL);
        }
        statuses.patchIfChanged(snapshot, SnapshotStatuses.progressed(snapshot, task, now));
        Duration untilDeadline = deadline == null ? POLL : Duration.between(now, deadline);
        return UpdateControl.<VfioSnapshot>noUpdate()
            .rescheduleAfter(untilDeadline.compareTo(POLL) < 0 ? untilDeadline.plusMillis(10) : POLL);
      }
    }
  }

  private UpdateControl<VfioSnapshot> fail(VfioSnapshot snapshot, String reason, String message, Instant now) {
    if (statuses.patchIfChanged(snapshot, SnapshotStatuses.failed(snapshot, reason, message, now))) {
      events.warning(snapshot, reason, message);
      metrics.ended("VfioSnapshot", "Failed", reason, null, null);
    }
    LOG.info("failed: {}: {}", reason, message);
    return UpdateControl.noUpdate();
  }

  private UpdateControl<VfioSnapshot> expireAfterTtl(VfioSnapshot snapshot, Instant now) {
    Instant expiry = ttlExpiry(snapshot);
    if (expiry == null) {
      return UpdateControl.noUpdate();
    }
    if (!now.isBefore(expiry)) {
      LOG.info("ttl {} elapsed, deleting", snapshot.getSpec().getTtl());
      events.normal(snapshot, "Expired", "ttl " + snapshot.getSpec().getTtl() + " elapsed; deleting the snapshot");
      client.resource(snapshot).delete();
      return UpdateControl.noUpdate();
    }
    return UpdateControl.<VfioSnapshot>noUpdate().rescheduleAfter(Duration.between(now, expiry).plusMillis(10));
  }

  private UpdateControl<VfioSnapshot> ttlReschedule(VfioSnapshot snapshot, Instant now) {
    String ttl = snapshot.getSpec().getTtl();
    if (ttl == null) {
      return UpdateControl.noUpdate();
    }
    return UpdateControl.<VfioSnapshot>noUpdate().rescheduleAfter(Durations.parse(ttl, Duration.ZERO).plusMillis(10));
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
    return Instant.parse(started).plus(Durations.parse(snapshot.getSpec().getTimeout(), config.defaultTimeout()));
  }

  @Override
  public DeleteControl cleanup(VfioSnapshot cached, Context<VfioSnapshot> context) {
    VfioSnapshot snapshot = statuses.fresh(cached);
    try (var ignored = MDC.putCloseable("resource", describe(snapshot))) {
      Instant now = clock.instant();
      String namespace = snapshot.getMetadata().getNamespace();
      Optional<VfioNodeTask> save = tasks.find(snapshot, context, SAVE);
      if (save.isPresent() && !NodeTasks.isTerminal(save.get())) {
        tasks.cancel(save.get());
        statuses.patchIfChanged(snapshot, SnapshotStatuses.rollingBack(snapshot, Reasons.DELETING,
            "deleted while in flight; waiting for the agent to roll the devices back", now));
        return DeleteControl.noFinalizerRemoval().rescheduleAfter(CLEANUP_POLL);
      }
      if (mayHaveBlobs(snapshot, save) && deletionPolicy(snapshot) == DeletionPolicy.Delete) {
        Optional<DeleteControl> waiting = deleteBlobs(snapshot, context, now);
        if (waiting.isPresent()) {
          return waiting.get();
        }
      }
      save.ifPresent(task -> tasks.delete(namespace, task.getMetadata().getName()));
      tasks.delete(namespace, NodeTasks.name(snapshot, DELETE_BLOBS));
      LOG.info("cleaned up");
      statuses.forget(snapshot.getMetadata().getUid());
      return DeleteControl.defaultDelete();
    }
  }

  /** Runs the DeleteBlobs task to its end; empty once the blobs are gone. */
  private Optional<DeleteControl> deleteBlobs(VfioSnapshot snapshot, Context<VfioSnapshot> context, Instant now) {
    Optional<VfioNodeTask> existing = tasks.find(snapshot, context, DELETE_BLOBS);
    if (existing.isPresent()) {
      VfioNodeTask task = existing.get();
      switch (NodeTasks.phase(task)) {
        case Succeeded -> {
          events.normal(snapshot, "BlobsDeleted", "deleted the blobs of " + snapshot.getMetadata().getName());
          return Optional.empty();
        }
        case Failed, Cancelled -> {
          // Retry on a fresh task: the blobs must not outlive their snapshot silently.
          events.warning(snapshot, Reasons.STORAGE_ERROR, "deleting the blobs failed: "
              + task.getStatus().getMessage() + "; retrying");
          tasks.delete(task.getMetadata().getNamespace(), task.getMetadata().getName());
          return Optional.of(DeleteControl.noFinalizerRemoval().rescheduleAfter(POLL));
        }
        default -> {
          return Optional.of(DeleteControl.noFinalizerRemoval().rescheduleAfter(CLEANUP_POLL));
        }
      }
    }
    String node = nodeForBlobDeletion(snapshot, now);
    if (node == null) {
      events.warning(snapshot, Reasons.AGENT_NOT_READY, "no ready agent to delete the blobs; waiting");
      return Optional.of(DeleteControl.noFinalizerRemoval().rescheduleAfter(POLL));
    }
    VfioNodeTaskSpec spec = new VfioNodeTaskSpec();
    spec.setOperation(TaskOperation.DeleteBlobs);
    spec.setNodeName(node);
    spec.setStorageClaim(storageClaim(snapshot));
    spec.setBlobDirectory(snapshot.getMetadata().getNamespace() + "/" + snapshot.getMetadata().getName());
    tasks.create(snapshot, DELETE_BLOBS, spec, false);
    return Optional.of(DeleteControl.noFinalizerRemoval().rescheduleAfter(CLEANUP_POLL));
  }

  /** The snapshot's own node if its agent is ready, otherwise any ready agent mounting the claim. */
  private String nodeForBlobDeletion(VfioSnapshot snapshot, Instant now) {
    String claim = storageClaim(snapshot);
    String preferred = snapshot.getStatus() == null ? null : snapshot.getStatus().getNodeName();
    List<VfioNode> candidates = client.resources(VfioNode.class).list().getItems().stream()
        .filter(n -> n.getStatus() != null && nodeChecks.agent(n, n.getMetadata().getName(), now) == null)
        .filter(n -> n.getStatus().getStorage() != null
            && n.getStatus().getStorage().stream().anyMatch(s -> claim.equals(s.getName())))
        .toList();
    return candidates.stream().map(n -> n.getMetadata().getName())
        .filter(n -> n.equals(preferred)).findFirst()
        .orElse(candidates.isEmpty() ? null : candidates.get(0).getMetadata().getName());
  }

  private static boolean mayHaveBlobs(VfioSnapshot snapshot, Optional<VfioNodeTask> save) {
    return save.isPresent() || (snapshot.getStatus() != null && snapshot.getStatus().getTaskName() != null);
  }

  private static DeletionPolicy deletionPolicy(VfioSnapshot snapshot) {
    DeletionPolicy policy = snapshot.getSpec() == null ? null : snapshot.getSpec().getDeletionPolicy();
    return policy == null ? DeletionPolicy.Delete : policy;
  }

  private String storageClaim(VfioSnapshot snapshot) {
    String claim = snapshot.getSpec() == null ? null : snapshot.getSpec().getStorageClaim();
    return claim == null ? config.defaultStorageClaim() : claim;
  }

  private static String describe(VfioSnapshot snapshot) {
    return "vfiosnapshot/" + snapshot.getMetadata().getNamespace() + "/" + snapshot.getMetadata().getName();
  }
}
