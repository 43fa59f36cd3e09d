package dev.vfio.operator.reconcile;

import dev.vfio.operator.events.EventRecorder;
import dev.vfio.operator.metrics.OperatorMetrics;
import dev.vfio.operator.status.StatusWriter;
import dev.vfio.operator.tasks.NodeTasks;
import io.fabric8.kubernetes.client.CustomResource;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.DeleteControl;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Carries out a {@link Plan}: the task changes first, then the one status write of the pass, then
 * the Events and metrics that go with that status.
 *
 * <p>Events are recorded once the status is stored, whether written now or already; metrics only
 * when written now, so that an operation is counted once. When the stored object changed after the
 * copy the plan was computed from, nothing is recorded and the pass is repeated shortly on a fresh
 * copy: the task changes are idempotent, the next plan finds them done.
 */
public final class PlanRunner<R extends CustomResource<?, S>, S> {
  private static final Logger LOG = LoggerFactory.getLogger(PlanRunner.class);
  private static final Duration AFTER_CONFLICT = Duration.ofSeconds(1);

  private final NodeTasks tasks;
  private final StatusWriter<R, S> statuses;
  private final EventRecorder events;
  private final OperatorMetrics metrics;

  public PlanRunner(
      NodeTasks tasks, StatusWriter<R, S> statuses, EventRecorder events, OperatorMetrics metrics) {
    this.tasks = tasks;
    this.statuses = statuses;
    this.events = events;
    this.metrics = metrics;
  }

  /** Runs a reconciliation's plan. */
  public UpdateControl<R> reconciled(R resource, Plan<S> plan, Context<R> context) {
    Duration requeue = run(resource, plan, context);
    return requeue == null
        ? UpdateControl.noUpdate()
        : UpdateControl.<R>noUpdate().rescheduleAfter(requeue);
  }

  /** Runs a cleanup's plan: done, and the finalizer removed, when it asks to look again never. */
  public DeleteControl cleaned(R resource, Plan<S> plan, Context<R> context) {
    Duration requeue = run(resource, plan, context);
    return requeue == null
        ? DeleteControl.defaultDelete()
        : DeleteControl.noFinalizerRemoval().rescheduleAfter(requeue);
  }

  private Duration run(R resource, Plan<S> plan, Context<R> context) {
    plan.tasks().forEach(action -> tasks.apply(resource, action));
    StatusWriter.Outcome outcome =
        plan.status() == null
            ? StatusWriter.Outcome.UNCHANGED
            : statuses.write(resource, plan.status(), context);
    if (outcome == StatusWriter.Outcome.CONFLICT) {
      LOG.debug("changed since this pass read it; looking again");
      return AFTER_CONFLICT;
    }
    plan.notices().forEach(notice -> events.record(resource, notice));
    if (outcome == StatusWriter.Outcome.WRITTEN && plan.ending() != null) {
      metrics.ended(resource.getKind(), plan.ending());
    }
    return plan.requeue();
  }
}
