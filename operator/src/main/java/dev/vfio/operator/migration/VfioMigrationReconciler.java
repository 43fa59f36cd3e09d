package dev.vfio.operator.migration;

import dev.vfio.api.v1alpha1.AfterSnapshot;
import dev.vfio.api.v1alpha1.Compression;
import dev.vfio.api.v1alpha1.Digest;
import dev.vfio.api.v1alpha1.DeviceMapping;
import dev.vfio.api.v1alpha1.Durations;
import dev.vfio.api.v1alpha1.MigrationPhase;
import dev.vfio.api.v1alpha1.QuiesceMode;
import dev.vfio.api.v1alpha1.Reasons;
import dev.vfio.api.v1alpha1.Stage;
import dev.vfio.api.v1alpha1.TaskOperation;
import dev.vfio.api.v1alpha1.TaskPhase;
import dev.vfio.api.v1alpha1.Transport;
import dev.vfio.api.v1alpha1.VfioMigration;
import dev.vfio.api.v1alpha1.VfioMigrationStatus;
import dev.vfio.api.v1alpha1.VfioNode;
import dev.vfio.api.v1alpha1.VfioNodeTask;
import dev.vfio.api.v1alpha1.VfioNodeTaskSpec;
import dev.vfio.api.v1alpha1.VfioSnapshot;
import dev.vfio.operator.config.OperatorConfig;
import dev.vfio.operator.events.EventRecorder;
import dev.vfio.operator.metrics.OperatorMetrics;
import dev.vfio.operator.preflight.Rejection;
import dev.vfio.operator.status.StatusPatcher;
import dev.vfio.operator.tasks.NodeTasks;
import dev.vfio.operator.tasks.TaskParents;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Cleaner;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.DeleteControl;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * Reconciles {@link VfioMigration}. From a snapshot: one {@code Load} task on the target's node.
 * Live: a {@code Receive} task on the target's node first, then, once it listens, a {@code Send}
 * task on the source's node with its endpoint and a per-migration token. Any failure before the
 * target runs cancels the other side, whose agent rolls its devices back: a failed migration
 * leaves the workload running where it was.
 */
@ControllerConfiguration(name = "vfiomigration")
public class VfioMigrationReconciler implements Reconciler<VfioMigration>, Cleaner<VfioMigration> {
  /** Annotation the target agent (and, on failure, the operator) sets on the target pod. */
  public static final String RESTORE_STATUS = "vfio.dev/restore-status";
  static final String LOAD = "load";
  static final String RECEIVE = "receive";
  static final String SEND = "send";
  // Not "save": a VfioSnapshot of the same name in the namespace names its task <name>-save.
  static final String SAVE = "storage-save";
  static final String RESUME = "resume";
  static final String CLEANUP = "cleanup";
  /** On a migration's Save task: the UID of the target pod the saved state is for. */
  static final String TARGET_UID = "vfio.dev/target-uid";
  private static final Logger LOG = LoggerFactory.getLogger(VfioMigrationReconciler.class);
  private static final Duration POLL = Duration.ofSeconds(2);
  private static final long BUDGET_MARGIN = 256L << 20;
  /** What the agent runs when spec.precopy.maxRounds is unset. */
  private static final int DEFAULT_PRECOPY_ROUNDS = 5;

  private final KubernetesClient client;
  private final OperatorConfig config;
  private final MigrationPreflight preflight;
  private final MigrationAdmission admission;
  private final NodeTasks tasks;
  private final StatusPatcher statuses;
  private final EventRecorder events;
  private final Clock clock;
  private final OperatorMetrics metrics;
  private final SecureRandom random = new SecureRandom();

  public VfioMigrationReconciler(KubernetesClient client, OperatorConfig config, Clock clock, OperatorMetrics metrics) {
    this.client = client;
    this.config = config;
    this.preflight = new MigrationPreflight(config);
    this.admission = new MigrationAdmission(config.maxMigrations(), config.maxMigrationsPerNode());
    this.tasks = new NodeTasks(client);
    this.statuses = new StatusPatcher(client);
    this.events = new EventRecorder(client, clock);
    this.clock = clock;
    this.metrics = metrics;
  }

  @Override
  public List<EventSource<?, VfioMigration>> prepareEventSources(EventSourceContext<VfioMigration> context) {
    var configuration = InformerEventSourceConfiguration.from(VfioNodeTask.class, VfioMigration.class)
        .withName("migration-tasks")
        .withSecondaryToPrimaryMapper(TaskParents.mapperFor(VfioMigration.class))
        .build();
    return List.of(new InformerEventSource<>(configuration, context));
  }

  @Override
  public UpdateControl<VfioMigration> reconcile(VfioMigration cached, Context<VfioMigration> context) {
    VfioMigration migration = statuses.fresh(cached);
    try (var ignored = MDC.putCloseable("resource", describe(migration))) {
      Instant now = clock.instant();
      MigrationPhase phase = migration.getStatus() == null ? null : migration.getStatus().getPhase();
      if (phase == MigrationPhase.Succeeded || phase == MigrationPhase.Failed) {
        admission.release(migration);
        return UpdateControl.noUpdate();
      }
      Optional<VfioNodeTask> load = tasks.find(migration, context, LOAD);
      Optional<VfioNodeTask> receive = tasks.find(migration, context, RECEIVE);
      Optional<VfioNodeTask> send = tasks.find(migration, context, SEND);
      Optional<VfioNodeTask> save = tasks.find(migration, context, SAVE);
      if (save.isPresent()) {
        return followStorage(migration, save.get(), load, tasks.find(migration, context, RESUME), now);
      }
      if (load.isEmpty() && receive.isEmpty()) {
        if (phase == MigrationPhase.Running) {
          return fail(migration, Reasons.TASK_LOST, "the migration's tasks disappeared before they finished: "
              + "create the migration again", now);
        }
        return start(migration, context, now);
      }
      return load.isPresent() ? followLoad(migration, load.get(), now) : followLive(migration, receive.get(), send, now);
    }
  }

  private UpdateControl<VfioMigration> start(VfioMigration migration, Context<VfioMigration> context, Instant now) {
    String namespace = migration.getMetadata().getNamespace();
    var outcome = preflight.check(migration,
        pod -> client.pods().inNamespace(namespace).withName(pod).get(),
        node -> client.resources(VfioNode.class).withName(node).get(),
        snapshot -> client.resources(VfioSnapshot.class).inNamespace(namespace).withName(snapshot).get(), now);
    if (outcome instanceof MigrationPreflight.Rejected rejected) {
      return fail(migration, rejected.rejection().reason(), rejected.rejection().message(), now);
    }
    if (outcome instanceof MigrationPreflight.Waiting waiting) {
      return wait(migration, waiting.why(), now);
    }
    MigrationPlan plan = ((MigrationPreflight.Accepted) outcome).plan();
    String busy = admission.admit(new MigrationAdmission.Claim(MigrationAdmission.key(migration),
        plan.sourceNode(), plan.targetNode()), context.getPrimaryCache().list().toList());
    if (busy != null) {
      return wait(migration, new Rejection(Reasons.WAITING_FOR_CAPACITY, busy), now);
    }
    Instant deadline = now.plus(plan.timeout());
    if (!plan.fromSnapshot() && migration.getSpec().getTransport() == Transport.Storage) {
      // The target's identity travels with the save, so the load refuses a replaced target.
      tasks.create(migration, SAVE, storageSaveSpec(migration, plan, deadline), true,
          Map.of(TARGET_UID, plan.targetPod().getMetadata().getUid()));
    } else if (plan.fromSnapshot()) {
      VfioNodeTaskSpec load = targetSpec(migration, plan, TaskOperation.Load, deadline);
      load.setStorageClaim(plan.snapshotClaim());
      load.setBlobDirectory(plan.snapshotDirectory());
      tasks.create(migration, LOAD, load, true);
    } else {
      VfioNodeTaskSpec receive = targetSpec(migration, plan, TaskOperation.Receive, deadline);
      receive.setToken(newToken());
      receive.setByteBudget(byteBudget(migration, plan));
      tasks.create(migration, RECEIVE, receive, true);
    }
    statuses.patchIfChanged(migration, MigrationStatuses.started(migration, plan, now));
    events.normal(migration, "Started", (plan.fromSnapshot() ? "restoring snapshot " + plan.snapshotDirectory()
        : "migrating from node " + plan.sourceNode()) + " into pod " + plan.targetPod().getMetadata().getName()
        + " on node " + plan.targetNode());
    LOG.info("started: {} device pair(s) to node {}", plan.pairs().size(), plan.targetNode());
    return UpdateControl.<VfioMigration>noUpdate().rescheduleAfter(POLL);
  }

  /**
   * The most a receiver accepts: every PRE_COPY round may resend the whole state and STOP_COPY
   * sends it once more, plus a margin for framing and for a size the device under-reported.
   * Unknown sizes get no budget beyond the agent's default.
   */
  private static Long byteBudget(VfioMigration migration, MigrationPlan plan) {
    if (plan.expectedBytes() <= 0) {
      return null;
    }
    var precopy = migration.getSpec().getPrecopy();
    int rounds = precopy == null || precopy.getMaxRounds() == null ? DEFAULT_PRECOPY_ROUNDS : precopy.getMaxRounds();
    return plan.expectedBytes() * (rounds + 2L) + BUDGET_MARGIN;
  }

  private VfioNodeTaskSpec targetSpec(VfioMigration migration, MigrationPlan plan, TaskOperation operation, Instant deadline) {
    VfioNodeTaskSpec spec = new VfioNodeTaskSpec();
    spec.setOperation(operation);
    spec.setNodeName(plan.targetNode());
    spec.setPodName(plan.targetPod().getMetadata().getName());
    spec.setPodUid(plan.targetPod().getMetadata().getUid());
    spec.setDevices(plan.pairs().stream().map(DeviceMapping::getTarget).toList());
    spec.setDeviceMap(plan.pairs());
    spec.setDeadline(deadline.toString());
    spec.setParent(MigrationAdmission.key(migration));
    return spec;
  }

  /** Where a migration through storage keeps its blobs: never a snapshot's directory. */
  private static String transferDirectory(VfioMigration migration) {
    return migration.getMetadata().getNamespace() + "/vmig-" + migration.getMetadata().getUid();
  }

  private VfioNodeTaskSpec storageSaveSpec(VfioMigration migration, MigrationPlan plan, Instant deadline) {
    VfioNodeTaskSpec spec = new VfioNodeTaskSpec();
    spec.setOperation(TaskOperation.Save);
    spec.setNodeName(plan.sourceNode());
    spec.setPodName(plan.sourcePod().getMetadata().getName());
    spec.setPodUid(plan.sourcePod().getMetadata().getUid());
    spec.setDevices(plan.pairs().stream().map(DeviceMapping::getSource).toList());
    spec.setDeviceMap(plan.pairs());
    spec.setStorageClaim(config.defaultStorageClaim());
    spec.setBlobDirectory(transferDirectory(migration));
    spec.setQuiesce(migration.getSpec().getQuiesce() == null ? QuiesceMode.Freeze : migration.getSpec().getQuiesce());
    // The source stays stopped once saved: it must not run on while its state starts elsewhere.
    spec.setAfterSave(AfterSnapshot.KeepStopped);
    spec.setCompression(Compression.None);
    // The blobs live only until the Load has run; their chunk CRCs are what the Load checks.
    spec.setDigest(Digest.None);
    spec.setPrecopy(migration.getSpec().getPrecopy());
    spec.setDeadline(deadline.toString());
    spec.setParent(MigrationAdmission.key(migration));
    return spec;
  }

  /**
   * Through storage: Save on the source (left stopped), then Load on the target. If the load
   * fails, a Resume task runs the source again before the migration reports its failure.
   */
  private UpdateControl<VfioMigration> followStorage(VfioMigration migration, VfioNodeTask save,
      Optional<VfioNodeTask> load, Optional<VfioNodeTask> resume, Instant now) {
    if (resume.isPresent()) {
      if (!NodeTasks.isTerminal(resume.get())) {
        return UpdateControl.<VfioMigration>noUpdate().rescheduleAfter(POLL);
      }
      VfioNodeTask cause = load.orElse(save);
      return fail(migration, reasonOf(migration, cause, now), messageOf(cause)
          + "; the source was resumed: " + messageOf(resume.get()), now);
    }
    switch (NodeTasks.phase(save)) {
      case Failed, Cancelled -> {
        return failFrom(migration, save, now);
      }
      case Succeeded -> { }
      default -> {
        return watchdog(migration, List.of(save), null, now).orElseGet(() -> {
          statuses.patchIfChanged(migration, MigrationStatuses.progressed(migration, save, stageOf(save)));
          return UpdateControl.<VfioMigration>noUpdate().rescheduleAfter(POLL);
        });
      }
    }
    if (load.isEmpty()) {
      VfioNodeTaskSpec spec = new VfioNodeTaskSpec();
      spec.setOperation(TaskOperation.Load);
      spec.setNodeName(migration.getStatus().getTargetNode());
      spec.setPodName(migration.getSpec().getTargetPodName());
      spec.setPodUid(save.getMetadata().getAnnotations().get(TARGET_UID));
      spec.setDevices(save.getSpec().getDeviceMap().stream().map(DeviceMapping::getTarget).toList());
      spec.setDeviceMap(save.getSpec().getDeviceMap());
      spec.setStorageClaim(save.getSpec().getStorageClaim());
      spec.setBlobDirectory(save.getSpec().getBlobDirectory());
      spec.setDeadline(save.getSpec().getDeadline());
      spec.setParent(MigrationAdmission.key(migration));
      tasks.create(migration, LOAD, spec, true);
      return UpdateControl.<VfioMigration>noUpdate().rescheduleAfter(POLL);
    }
    VfioNodeTask loading = load.get();
    switch (NodeTasks.phase(loading)) {
      case Succeeded -> {
        VfioNodeTaskSpec cleanup = new VfioNodeTaskSpec();
        cleanup.setOperation(TaskOperation.DeleteBlobs);
        cleanup.setNodeName(loading.getSpec().getNodeName());
        cleanup.setStorageClaim(save.getSpec().getStorageClaim());
        cleanup.setBlobDirectory(save.getSpec().getBlobDirectory());
        tasks.create(migration, CLEANUP, cleanup, true);
        Long downtime = downtime(save.getStatus() == null ? null : save.getStatus().getStoppedAt(),
            loading.getStatus().getResumedAt());
        return succeed(migration, loading, loading, downtime, now);
      }
      case Failed, Cancelled -> {
        statuses.patchIfChanged(migration, MigrationStatuses.rollingBack(migration,
            reasonOf(migration, loading, now), "resuming the source: " + messageOf(loading), now));
        VfioNodeTaskSpec spec = new VfioNodeTaskSpec();
        spec.setOperation(TaskOperation.Resume);
        spec.setNodeName(save.getSpec().getNodeName());
        spec.setPodName(save.getSpec().getPodName());
        spec.setPodUid(save.getSpec().getPodUid());
        spec.setDevices(save.getSpec().getDevices());
        spec.setParent(MigrationAdmission.key(migration));
        tasks.create(migration, RESUME, spec, true);
        return UpdateControl.<VfioMigration>noUpdate().rescheduleAfter(POLL);
      }
      default -> {
        return watchdog(migration, List.of(loading), loading.getSpec().getPodUid(), now).orElseGet(() -> {
          statuses.patchIfChanged(migration, MigrationStatuses.progressed(migration, loading, stageOf(loading)));
          return UpdateControl.<VfioMigration>noUpdate().rescheduleAfter(POLL);
        });
      }
    }
  }

  private UpdateControl<VfioMigration> followLoad(VfioMigration migration, VfioNodeTask load, Instant now) {
    switch (NodeTasks.phase(load)) {
      case Succeeded -> {
        return succeed(migration, load, load, null, now);
      }
      case Failed, Cancelled -> {
        return failFrom(migration, load, now);
      }
      default -> {
        return watchdog(migration, List.of(load), load.getSpec().getPodUid(), now).orElseGet(() -> {
          statuses.patchIfChanged(migration, MigrationStatuses.progressed(migration, load, stageOf(load)));
          return UpdateControl.<VfioMigration>noUpdate().rescheduleAfter(POLL);
        });
      }
    }
  }

  private UpdateControl<VfioMigration> followLive(VfioMigration migration, VfioNodeTask receive,
      Optional<VfioNodeTask> send, Instant now) {
    TaskPhase receivePhase = NodeTasks.phase(receive);
    TaskPhase sendPhase = send.map(NodeTasks::phase).orElse(null);
    boolean receiveFailed = receivePhase == TaskPhase.Failed || receivePhase == TaskPhase.Cancelled;
    boolean sendFailed = sendPhase == TaskPhase.Failed || sendPhase == TaskPhase.Cancelled;
    if (receiveFailed || sendFailed) {
      // One side failed: the other must stop and roll back before the migration is over.
      tasks.cancel(receive);
      send.ifPresent(tasks::cancel);
      boolean settled = NodeTasks.isTerminal(receive) && send.map(NodeTasks::isTerminal).orElse(true);
      VfioNodeTask cause = sendFailed && sendPhase == TaskPhase.Failed ? send.get()
          : receiveFailed && receivePhase == TaskPhase.Failed ? receive : send.orElse(receive);
      if (!settled) {
        statuses.patchIfChanged(migration, MigrationStatuses.rollingBack(migration,
            reasonOf(migration, cause, now), "rolling back: " + messageOf(cause), now));
        return UpdateControl.<VfioMigration>noUpdate().rescheduleAfter(POLL);
      }
      return failFrom(migration, cause, now);
    }
    if (receivePhase == TaskPhase.Succeeded && sendPhase == TaskPhase.Succeeded) {
      return succeed(migration, send.get(), receive, downtime(send.get(), receive), now);
    }
    if (send.isEmpty() && receive.getStatus() != null && receive.getStatus().getEndpoint() != null) {
      tasks.create(migration, SEND, sendSpec(migration, receive), true);
      LOG.info("receiver listens on {}:{}; sending", receive.getStatus().getEndpoint().getHost(),
          receive.getStatus().getEndpoint().getPort());
    }
    List<VfioNodeTask> running = Stream.concat(Stream.of(receive), send.stream()).toList();
    return watchdog(migration, running, receive.getSpec().getPodUid(), now).orElseGet(() -> {
      statuses.patchIfChanged(migration, MigrationStatuses.progressed(migration, send.orElse(null),
          stageOf(send.orElse(receive))));
      return UpdateControl.<VfioMigration>noUpdate().rescheduleAfter(POLL);
    });
  }

  private VfioNodeTaskSpec sendSpec(VfioMigration migration, VfioNodeTask receive) {
    String namespace = migration.getMetadata().getNamespace();
    Pod source = client.pods().inNamespace(namespace).withName(migration.getSpec().getSource().getPodName()).get();
    VfioNodeTaskSpec spec = new VfioNodeTaskSpec();
    spec.setOperation(TaskOperation.Send);
    spec.setNodeName(source == null ? migration.getStatus().getSourceNode() : source.getSpec().getNodeName());
    spec.setPodName(migration.getSpec().getSource().getPodName());
    spec.setPodUid(source == null ? null : source.getMetadata().getUid());
    spec.setDevices(receive.getSpec().getDeviceMap().stream().map(DeviceMapping::getSource).toList());
    spec.setDeviceMap(receive.getSpec().getDeviceMap());
    spec.setToken(receive.getSpec().getToken());
    spec.setEndpoint(receive.getStatus().getEndpoint());
    spec.setPrecopy(migration.getSpec().getPrecopy());
    spec.setQuiesce(migration.getSpec().getQuiesce() == null ? QuiesceMode.Freeze : migration.getSpec().getQuiesce());
    spec.setDeadline(receive.getSpec().getDeadline());
    spec.setParent(MigrationAdmission.key(migration));
    return spec;
  }

  /** Deadline and target pod identity, checked on every pass while tasks run. */
  private Optional<UpdateControl<VfioMigration>> watchdog(VfioMigration migration, List<VfioNodeTask> running,
      String targetUid, Instant now) {
    String reason = null;
    String message = null;
    if (expired(migration, now)) {
      reason = Reasons.TIMEOUT;
      message = "not Succeeded within " + timeout(migration) + "; rolling back";
    } else {
      Pod target = targetUid == null ? null : client.pods().inNamespace(migration.getMetadata().getNamespace())
          .withName(migration.getSpec().getTargetPodName()).get();
      if (targetUid != null && (target == null || !target.getMetadata().getUid().equals(targetUid))) {
        reason = Reasons.TARGET_POD_CHANGED;
        message = "target pod " + migration.getSpec().getTargetPodName() + " was deleted or replaced; rolling back";
      }
    }
    if (reason == null) {
      return Optional.empty();
    }
    running.forEach(tasks::cancel);
    statuses.patchIfChanged(migration, MigrationStatuses.rollingBack(migration, reason, message, now));
    return Optional.of(UpdateControl.<VfioMigration>noUpdate().rescheduleAfter(POLL));
  }

  private UpdateControl<VfioMigration> succeed(VfioMigration migration, VfioNodeTask mover, VfioNodeTask target,
      Long downtime, Instant now) {
    admission.release(migration);
    var succeeded = MigrationStatuses.succeeded(migration, mover, target, downtime, now);
    if (statuses.patchIfChanged(migration, succeeded)) {
      events.normal(migration, "Succeeded", "device state runs in pod " + migration.getSpec().getTargetPodName()
          + (downtime == null ? "" : " after " + downtime + " ms of downtime"));
      metrics.ended("VfioMigration", "Succeeded", Reasons.SUCCEEDED, downtime, succeeded.getBytesTransferred());
    }
    return UpdateControl.noUpdate();
  }

  private UpdateControl<VfioMigration> failFrom(VfioMigration migration, VfioNodeTask cause, Instant now) {
    return fail(migration, reasonOf(migration, cause, now), messageOf(cause), now);
  }

  private UpdateControl<VfioMigration> fail(VfioMigration migration, String reason, String message, Instant now) {
    admission.release(migration);
    markTarget(migration, "Failed");
    if (statuses.patchIfChanged(migration, MigrationStatuses.failed(migration, reason, message, now))) {
      events.warning(migration, reason, message);
      metrics.ended("VfioMigration", "Failed", reason, null, null);
    }
    LOG.info("failed: {}: {}", reason, message);
    return UpdateControl.noUpdate();
  }

  private UpdateControl<VfioMigration> wait(VfioMigration migration, Rejection why, Instant now) {
    statuses.patchIfChanged(migration, MigrationStatuses.pending(migration, why, now));
    return UpdateControl.<VfioMigration>noUpdate().rescheduleAfter(POLL);
  }

  /** Tells the target workload, through its pod's annotations, that no state is coming. */
  private void markTarget(VfioMigration migration, String value) {
    try {
      // Through a reference, not withName(), which would read the pod from the server first.
      Pod target = new PodBuilder().withNewMetadata().withNamespace(migration.getMetadata().getNamespace())
          .withName(migration.getSpec().getTargetPodName()).endMetadata().build();
      client.resource(target).patch(PatchContext.of(PatchType.JSON_MERGE),
              "{\"metadata\":{\"annotations\":{\"" + RESTORE_STATUS + "\":\"" + value + "\"}}}");
    } catch (KubernetesClientException e) {
      // The target pod may be gone, which is itself a reason the migration failed.
      LOG.debug("could not mark the target pod: {}", e.getMessage());
    }
  }

  /**
   * The cause of a failure: what started the rollback if something did (a deadline, the target
   * pod going away, the first side to fail), otherwise the failed task's own reason.
   */
  private String reasonOf(VfioMigration migration, VfioNodeTask task, Instant now) {
    VfioMigrationStatus status = migration.getStatus();
    if (status != null && status.getStage() == Stage.RollingBack) {
      return dev.vfio.api.v1alpha1.Conditions.find(status.getConditions(), dev.vfio.api.v1alpha1.Conditions.READY).getReason();
    }
    if (expired(migration, now)) {
      // Past the deadline both agents give up at once, and the side that notices the other
      // hanging up first reports a broken stream: the deadline is the cause.
      return Reasons.TIMEOUT;
    }
    String reason = task.getStatus() == null ? null : task.getStatus().getReason();
    if (reason == null || Reasons.CANCELLED.equals(reason)) {
      return expired(migration, now) ? Reasons.TIMEOUT : Reasons.CANCELLED;
    }
    return reason;
  }

  private static String messageOf(VfioNodeTask task) {
    String message = task.getStatus() == null ? null : task.getStatus().getMessage();
    return task.getSpec().getOperation() + " on node " + task.getSpec().getNodeName() + ": "
        + (message == null ? "ended " + NodeTasks.phase(task) : message);
  }

  private static Long downtime(VfioNodeTask send, VfioNodeTask receive) {
    return downtime(send.getStatus() == null ? null : send.getStatus().getStoppedAt(),
        receive.getStatus() == null ? null : receive.getStatus().getResumedAt());
  }

  private static Long downtime(String stopped, String resumed) {
    if (stopped == null || resumed == null) {
      return null;
    }
    // Two nodes' clocks: the figure carries their skew, which NTP keeps to milliseconds.
    return Math.max(0, Duration.between(Instant.parse(stopped), Instant.parse(resumed)).toMillis());
  }

  private static Stage stageOf(VfioNodeTask task) {
    return task.getStatus() == null ? null : task.getStatus().getStage();
  }

  private boolean expired(VfioMigration migration, Instant now) {
    String started = migration.getStatus() == null ? null : migration.getStatus().getStartTime();
    return started != null && !now.isBefore(Instant.parse(started).plus(timeout(migration)));
  }

  private Duration timeout(VfioMigration migration) {
    return Durations.parse(migration.getSpec().getTimeout(), config.defaultTimeout());
  }

  private String newToken() {
    byte[] token = new byte[32];
    random.nextBytes(token);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(token);
  }

  @Override
  public DeleteControl cleanup(VfioMigration cached, Context<VfioMigration> context) {
    VfioMigration migration = statuses.fresh(cached);
    try (var ignored = MDC.putCloseable("resource", describe(migration))) {
      List<VfioNodeTask> owned = Stream.of(LOAD, RECEIVE, SEND, SAVE, RESUME, CLEANUP)
          .map(role -> tasks.find(migration, context, role)).flatMap(Optional::stream).toList();
      List<VfioNodeTask> inFlight = owned.stream().filter(t -> !NodeTasks.isTerminal(t)).toList();
      if (!inFlight.isEmpty()) {
        inFlight.forEach(tasks::cancel);
        statuses.patchIfChanged(migration, MigrationStatuses.rollingBack(migration, Reasons.DELETING,
            "deleted while in flight; waiting for the agents to roll the devices back", clock.instant()));
        return DeleteControl.noFinalizerRemoval().rescheduleAfter(POLL);
      }
      if (migration.getStatus() != null && migration.getStatus().getPhase() == MigrationPhase.Running) {
        markTarget(migration, "Failed");
      }
      owned.forEach(t -> tasks.delete(t.getMetadata().getNamespace(), t.getMetadata().getName()));
      admission.release(migration);
      statuses.forget(migration.getMetadata().getUid());
      return DeleteControl.defaultDelete();
    }
  }

  private static String describe(VfioMigration migration) {
    return "vfiomigration/" + migration.getMetadata().getNamespace() + "/" + migration.getMetadata().getName();
  }
}
