package dev.vfio.operator.schedule;

import dev.vfio.api.v1alpha1.ConcurrencyPolicy;
import dev.vfio.api.v1alpha1.Condition;
import dev.vfio.api.v1alpha1.Conditions;
import dev.vfio.api.v1alpha1.Reason;
import dev.vfio.api.v1alpha1.SnapshotPhase;
import dev.vfio.api.v1alpha1.SnapshotsOnDeletion;
import dev.vfio.api.v1alpha1.Unrecognized;
import dev.vfio.api.v1alpha1.VfioSnapshot;
import dev.vfio.api.v1alpha1.VfioSnapshotSchedule;
import dev.vfio.api.v1alpha1.VfioSnapshotScheduleSpec;
import dev.vfio.api.v1alpha1.VfioSnapshotScheduleStatus;
import dev.vfio.operator.events.EventRecorder;
import dev.vfio.operator.events.Notice;
import dev.vfio.operator.preflight.Rejection;
import dev.vfio.operator.status.ReadyCondition;
import dev.vfio.operator.status.StatusWriter;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.utils.Serialization;
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
import java.net.HttpURLConnection;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs VfioSnapshotSchedules: at each run of its cron schedule a schedule creates a VfioSnapshot
 * from its template, named after the run's time so that a pass repeated after a crash finds it
 * made; after each pass it deletes the snapshots its retention no longer keeps. Its snapshots are
 * the ones labelled with its name; deleting the schedule takes them along or lets them go (drops
 * the label), as {@code snapshotsOnDeletion} says.
 */
@ControllerConfiguration(name = "vfiosnapshotschedule")
public class VfioSnapshotScheduleReconciler
    implements Reconciler<VfioSnapshotSchedule>, Cleaner<VfioSnapshotSchedule> {
  private static final Logger LOG = LoggerFactory.getLogger(VfioSnapshotScheduleReconciler.class);

  /** Retention by age is looked at again at least this often, whatever the schedule. */
  static final Duration AT_LEAST_EVERY = Duration.ofMinutes(5);

  private static final DateTimeFormatter RUN_SUFFIX =
      DateTimeFormatter.ofPattern("yyyyMMddHHmm").withZone(ZoneOffset.UTC);

  /** The snapshots a schedule made, as the watch sees them. */
  @FunctionalInterface
  interface OwnedSnapshots {
    List<VfioSnapshot> of(VfioSnapshotSchedule schedule, Context<VfioSnapshotSchedule> context);
  }

  private final KubernetesClient client;
  private final StatusWriter<VfioSnapshotSchedule, VfioSnapshotScheduleStatus> statuses;
  private final EventRecorder events;
  private final OwnedSnapshots owned;
  private final Clock clock;

  public VfioSnapshotScheduleReconciler(KubernetesClient client, Clock clock) {
    this(
        client,
        clock,
        StatusWriter.primaryCache(),
        (schedule, context) -> List.copyOf(context.getSecondaryResources(VfioSnapshot.class)));
  }

  VfioSnapshotScheduleReconciler(
      KubernetesClient client,
      Clock clock,
      StatusWriter.RecentWrites<VfioSnapshotSchedule> writes,
      OwnedSnapshots owned) {
    this.client = client;
    this.statuses = new StatusWriter<>(client, writes);
    this.events = new EventRecorder(client, clock);
    this.owned = owned;
    this.clock = clock;
  }

  @Override
  public List<EventSource<?, VfioSnapshotSchedule>> prepareEventSources(
      EventSourceContext<VfioSnapshotSchedule> context) {
    var configuration =
        InformerEventSourceConfiguration.from(VfioSnapshot.class, VfioSnapshotSchedule.class)
            .withName("scheduled-snapshots")
            .withLabelSelector(VfioSnapshotSchedule.SCHEDULE_LABEL)
            .withSecondaryToPrimaryMapper(
                snapshot ->
                    Set.of(
                        new ResourceID(
                            snapshot
                                .getMetadata()
                                .getLabels()
                                .get(VfioSnapshotSchedule.SCHEDULE_LABEL),
                            snapshot.getMetadata().getNamespace())))
            .build();
    return List.of(new InformerEventSource<>(configuration, context));
  }

  @Override
  public UpdateControl<VfioSnapshotSchedule> reconcile(
      VfioSnapshotSchedule schedule, Context<VfioSnapshotSchedule> context) {
    Instant now = clock.instant();
    VfioSnapshotScheduleSpec spec = schedule.getSpec();
    VfioSnapshotScheduleStatus next = copy(schedule);
    CronSchedule cron;
    Retention retention;
    try {
      List<Unrecognized> unknown = spec == null ? List.of() : spec.unrecognized("spec");
      if (!unknown.isEmpty()) {
        throw new IllegalArgumentException(Rejection.unrecognized(unknown).message());
      }
      if (spec == null || spec.getTemplate() == null) {
        throw new IllegalArgumentException("spec.template is required");
      }
      cron = CronSchedule.parse(spec.getSchedule());
      retention = Retention.of(spec.getRetention());
    } catch (IllegalArgumentException e) {
      next.setNextScheduleTime(null);
      ready(schedule, next, Condition.FALSE, Reason.INVALID_SPEC, e.getMessage(), now);
      statuses.write(schedule, next, context);
      return UpdateControl.noUpdate();
    }

    List<VfioSnapshot> snapshots = new ArrayList<>(owned.of(schedule, context));
    List<String> active =
        snapshots.stream()
            .filter(s -> !Retention.ended(s))
            .sorted(Retention.ORDER)
            .map(s -> s.getMetadata().getName())
            .toList();
    Reason reason = spec.suspended() ? Reason.SUSPENDED : Reason.SCHEDULED;
    String message =
        spec.suspended() ? "suspended: no snapshot is taken" : "waiting for the next run";
    Instant last = lastRun(schedule);
    Optional<Instant> due = cron.lastAtOrBefore(now).filter(run -> run.isAfter(last));
    if (due.isPresent()) {
      Instant run = due.get();
      next.setLastScheduleTime(run.toString());
      if (spec.suspended()) {
        message = "suspended: the run at " + run + " was skipped";
      } else if (spec.concurrencyPolicyOrDefault() == ConcurrencyPolicy.Forbid
          && !active.isEmpty()) {
        reason = Reason.RUN_SKIPPED;
        message =
            "the run at "
                + run
                + " was skipped: snapshot "
                + active.get(active.size() - 1)
                + " has not ended (concurrencyPolicy Forbid)";
        events.record(schedule, Notice.normal(reason, message));
      } else {
        VfioSnapshot created = create(schedule, run);
        next.setLastSnapshotName(created.getMetadata().getName());
        snapshots.removeIf(s -> s.getMetadata().getName().equals(created.getMetadata().getName()));
        snapshots.add(created);
        if (!active.contains(created.getMetadata().getName())) {
          active = new ArrayList<>(active);
          active.add(created.getMetadata().getName());
        }
        message = "took snapshot " + created.getMetadata().getName() + " for the run at " + run;
        events.record(schedule, Notice.normal(Reason.SCHEDULED, message));
      }
    } else if (next.getConditions() != null && !spec.suspended()) {
      // The message of the last run stays until the next one.
      Condition previous = Conditions.find(next.getConditions(), Conditions.READY);
      if (previous != null && previous.getStatus().equals(Condition.TRUE)) {
        reason = Reason.fromWire(previous.getReason()).orElse(reason);
        message = previous.getMessage();
      }
    }

    List<VfioSnapshot> doomed = retention.toDelete(snapshots, now);
    for (VfioSnapshot snapshot : doomed) {
      LOG.info(
          "schedule {}/{}: retention deletes snapshot {}",
          schedule.getMetadata().getNamespace(),
          schedule.getMetadata().getName(),
          snapshot.getMetadata().getName());
      client.resource(snapshot).delete();
    }
    if (!doomed.isEmpty()) {
      events.record(
          schedule,
          Notice.normal(
              "RetentionDeleted",
              "deleted "
                  + String.join(", ", doomed.stream().map(s -> s.getMetadata().getName()).toList())
                  + " (spec.retention)"));
    }
    snapshots.removeAll(doomed);

    Optional<Instant> upcoming = spec.suspended() ? Optional.empty() : cron.nextAfter(now);
    next.setNextScheduleTime(upcoming.map(Instant::toString).orElse(null));
    next.setActive(active.isEmpty() ? null : List.copyOf(active));
    next.setSnapshotCount(snapshots.size());
    next.setTotalBytes(
        snapshots.stream()
            .filter(s -> s.getStatus() != null && s.getStatus().getPhase() == SnapshotPhase.Ready)
            .mapToLong(Retention::bytes)
            .sum());
    ready(schedule, next, Condition.TRUE, reason, message, now);
    statuses.write(schedule, next, context);

    Duration wait =
        upcoming
            .map(at -> Duration.between(now, at))
            .filter(d -> d.compareTo(AT_LEAST_EVERY) < 0)
            .orElse(AT_LEAST_EVERY);
    // A pass woken a little early finds the run not yet due and waits again.
    return UpdateControl.<VfioSnapshotSchedule>noUpdate()
        .rescheduleAfter(wait.isNegative() || wait.isZero() ? Duration.ofSeconds(1) : wait);
  }

  @Override
  public DeleteControl cleanup(
      VfioSnapshotSchedule schedule, Context<VfioSnapshotSchedule> context) {
    SnapshotsOnDeletion policy =
        schedule.getSpec() == null
            ? SnapshotsOnDeletion.Retain
            : schedule.getSpec().snapshotsOnDeletionOrDefault();
    for (VfioSnapshot snapshot : owned.of(schedule, context)) {
      if (policy == SnapshotsOnDeletion.Delete) {
        client.resource(snapshot).delete();
      } else {
        // Let go: a later schedule of the same name must not take it for its own and prune it.
        client
            .resource(snapshot)
            .patch(
                PatchContext.of(PatchType.JSON_MERGE),
                "{\"metadata\":{\"labels\":{\""
                    + VfioSnapshotSchedule.SCHEDULE_LABEL
                    + "\":null}}}");
      }
    }
    return DeleteControl.defaultDelete();
  }

  /** The snapshot for {@code run}, created now or by an earlier pass that did not record it. */
  private VfioSnapshot create(VfioSnapshotSchedule schedule, Instant run) {
    VfioSnapshot snapshot = new VfioSnapshot();
    snapshot.setMetadata(
        new ObjectMetaBuilder()
            .withName(snapshotName(schedule, run))
            .withNamespace(schedule.getMetadata().getNamespace())
            .withLabels(
                Map.of(VfioSnapshotSchedule.SCHEDULE_LABEL, schedule.getMetadata().getName()))
            .withAnnotations(Map.of(VfioSnapshotSchedule.SCHEDULED_TIME_ANNOTATION, run.toString()))
            .build());
    snapshot.setSpec(Serialization.clone(schedule.getSpec().getTemplate()));
    try {
      VfioSnapshot created = client.resource(snapshot).create();
      LOG.info(
          "schedule {}/{}: created snapshot {}",
          schedule.getMetadata().getNamespace(),
          schedule.getMetadata().getName(),
          created.getMetadata().getName());
      return created;
    } catch (KubernetesClientException e) {
      if (e.getCode() != HttpURLConnection.HTTP_CONFLICT) {
        throw e;
      }
      return snapshot;
    }
  }

  static String snapshotName(VfioSnapshotSchedule schedule, Instant run) {
    return schedule.getMetadata().getName() + "-" + RUN_SUFFIX.format(run);
  }

  /** The last run acted on; a new schedule counts from its creation, so it takes no past run. */
  private static Instant lastRun(VfioSnapshotSchedule schedule) {
    VfioSnapshotScheduleStatus status = schedule.getStatus();
    if (status != null && status.getLastScheduleTime() != null) {
      return Instant.parse(status.getLastScheduleTime());
    }
    String created = schedule.getMetadata().getCreationTimestamp();
    return created == null ? Instant.EPOCH : OffsetDateTime.parse(created).toInstant();
  }

  private static VfioSnapshotScheduleStatus copy(VfioSnapshotSchedule schedule) {
    return schedule.getStatus() == null
        ? new VfioSnapshotScheduleStatus()
        : Serialization.clone(schedule.getStatus());
  }

  private static void ready(
      VfioSnapshotSchedule schedule,
      VfioSnapshotScheduleStatus next,
      String status,
      Reason reason,
      String message,
      Instant now) {
    next.setObservedGeneration(ReadyCondition.generation(schedule));
    next.setConditions(
        ReadyCondition.with(schedule, next.getConditions(), status, reason, message, now));
  }
}
