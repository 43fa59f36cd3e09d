package dev.vfio.agent.tasks;

import dev.vfio.agent.metrics.AgentMetrics;
import dev.vfio.api.v1alpha1.DeviceResult;
import dev.vfio.api.v1alpha1.PrecopyProgress;
import dev.vfio.api.v1alpha1.Reason;
import dev.vfio.api.v1alpha1.Stage;
import dev.vfio.api.v1alpha1.TaskPhase;
import dev.vfio.api.v1alpha1.VfioNodeTask;
import dev.vfio.api.v1alpha1.VfioNodeTaskStatus;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One running task as its operation sees it: cancellation and deadline checks, and progress
 * reported to the task status at a bounded rate whatever the data rate.
 *
 * <p>Stage changes share that bound: a stage that ends within the report interval of the last write
 * is not worth a write of its own (a small device goes through all of them in milliseconds, and
 * every write also costs the operator a reconciliation and a status patch), while one that lasts
 * longer is written once the interval has passed. The claim, the endpoint of a Receive task and the
 * outcome are written at once.
 *
 * <p>It is also the task's watchdog. A task blocked in I/O — a receiver waiting for its copy, a
 * sender waiting on its peer — checks nothing, so a cancel, or the deadline passing, closes the
 * resources the operation registered ({@link #closeOnStop}): the blocked call fails, and the
 * operation rolls back as after any failure, under the stop's reason. And a running task writes its
 * heartbeat at least once per heartbeat interval even when it reports nothing else, so the operator
 * can tell a task that waits from one whose worker is wedged.
 *
 * <p>A Send or Receive also waits here for the operator's switchover ({@link SwitchoverWait}) and
 * ends its task with the conditional write of {@link Switchover}: the task's whole contract with
 * the API server in one place, hence past 300 lines.
 */
public final class TaskContext implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(TaskContext.class);
  private static final Duration RETRY = Duration.ofSeconds(1);
  private final VfioNodeTask task;
  private final BiConsumer<VfioNodeTask, VfioNodeTaskStatus> writer;
  private final Clock clock;
  private final Duration reportInterval;
  private final Duration heartbeatInterval;
  private final Instant deadline;
  private final VfioNodeTaskStatus status;
  private final ScheduledExecutorService delayedReports;
  private final AtomicLong bytesDone = new AtomicLong();
  private final Map<String, PrecopyProgress> precopyByDevice = new TreeMap<>();
  private final TaskStore store;
  private final SwitchoverWait switchover = new SwitchoverWait();
  private volatile boolean cancelRequested;
  private Instant lastReport;
  private ScheduledFuture<?> pendingReport;
  private boolean ended;
  private final List<AutoCloseable> closeOnStop = new ArrayList<>();
  private boolean stopped;
  private final List<ScheduledFuture<?>> timers = new ArrayList<>();

  /**
   * {@code claimed} is the status the claim wrote just now; {@code writer} writes the whole status
   * ({@link TaskStatusWriter#write} in the agent), throwing when it cannot; {@code store} reads the
   * task and writes the conditional ending of a switchover; {@code delayedReports} runs deferred
   * writes.
   */
  public TaskContext(
      VfioNodeTask task,
      VfioNodeTaskStatus claimed,
      BiConsumer<VfioNodeTask, VfioNodeTaskStatus> writer,
      TaskStore store,
      Clock clock,
      Duration reportInterval,
      ScheduledExecutorService delayedReports) {
    this(task, claimed, writer, store, clock, reportInterval, null, delayedReports);
  }

  /**
   * As above, and with a heartbeat written every {@code heartbeatInterval} that passes without a
   * write (none when null).
   */
  public TaskContext(
      VfioNodeTask task,
      VfioNodeTaskStatus claimed,
      BiConsumer<VfioNodeTask, VfioNodeTaskStatus> writer,
      TaskStore store,
      Clock clock,
      Duration reportInterval,
      Duration heartbeatInterval,
      ScheduledExecutorService delayedReports) {
    this.task = task;
    this.writer = writer;
    this.store = store;
    this.clock = clock;
    this.reportInterval = reportInterval;
    this.heartbeatInterval = heartbeatInterval;
    this.delayedReports = delayedReports;
    this.lastReport = clock.instant();
    this.status = Serialization.clone(claimed);
    String deadlineText = task.getSpec().getDeadline();
    this.deadline = deadlineText == null ? null : Instant.parse(deadlineText);
    if (deadline != null) {
      long untilDeadline = Math.max(0, Duration.between(clock.instant(), deadline).toMillis());
      timers.add(
          delayedReports.schedule(this::stopIfDue, untilDeadline + 1, TimeUnit.MILLISECONDS));
    }
    if (heartbeatInterval != null) {
      // Checked twice per interval, so that no heartbeat is older than one and a half intervals.
      long every = Math.max(1, heartbeatInterval.toMillis() / 2);
      timers.add(
          delayedReports.scheduleWithFixedDelay(
              this::heartbeat, every, every, TimeUnit.MILLISECONDS));
    }
  }

  public VfioNodeTask task() {
    return task;
  }

  public Clock clock() {
    return clock;
  }

  /** Called from the watch when the operator sets spec.cancelRequested. */
  public void requestCancel() {
    cancelRequested = true;
    stopIfDue();
    switchover.wake();
  }

  /**
   * Closes {@code resource} as soon as the task must stop (at once if it must already): what the
   * operation blocks on — a socket, a listener — so that the block ends within seconds of a cancel
   * or the deadline instead of when the peer gives up. The operation still closes it itself.
   */
  public void closeOnStop(AutoCloseable resource) {
    synchronized (closeOnStop) {
      if (!stopped) {
        closeOnStop.add(resource);
        return;
      }
    }
    closeQuietly(resource);
  }

  private void stopIfDue() {
    if (stopReason() == null) {
      return;
    }
    List<AutoCloseable> toClose;
    synchronized (closeOnStop) {
      stopped = true;
      toClose = List.copyOf(closeOnStop);
      closeOnStop.clear();
    }
    if (!toClose.isEmpty()) {
      LOG.info("{}: closing what it waits on", stopReason().getMessage());
    }
    toClose.forEach(TaskContext::closeQuietly);
  }

  private static void closeQuietly(AutoCloseable resource) {
    try {
      resource.close();
    } catch (Exception e) {
      // Closed or broken either way: the blocked call fails, which is all this is for.
      LOG.debug("closing {} on stop: {}", resource, e.getMessage());
    }
  }

  /** Called from the watch with the task as stored now: a cancel or a switchover Commit. */
  public void observe(VfioNodeTask latest) {
    if (latest.getSpec() == null) {
      return;
    }
    if (Boolean.TRUE.equals(latest.getSpec().getCancelRequested())) {
      requestCancel();
    }
    if (latest.getSpec().committed()) {
      switchover.commit();
    }
  }

  /**
   * At Sent or Loaded: waits for the operator's switchover decision. Returns null once it
   * committed, otherwise why the task must stop without one (cancel, deadline), which the caller
   * settles with {@link #settle} before it touches a device.
   */
  TaskFailure awaitSwitchover() throws InterruptedException {
    return switchover.await(this::stopReason);
  }

  /**
   * Ends the task with {@code failure} unless the operator committed first ({@link Switchover}).
   * When it is ended, later writes of this context only add to the message what was rolled back.
   */
  Switchover.Outcome settle(TaskFailure failure) throws InterruptedException {
    VfioNodeTaskStatus ending;
    synchronized (this) {
      ending = ended(failure, null);
    }
    ending.setBytesDone(bytesDone.get());
    ending.setHeartbeatTime(clock.instant().toString());
    Switchover.Outcome outcome = Switchover.settle(store, task, stored -> ending);
    if (outcome == Switchover.Outcome.COMMITTED) {
      switchover.commit();
    }
    return outcome;
  }

  /** Throws if the task must stop now. */
  public void checkpoint() throws TaskFailure {
    TaskFailure stop = stopReason();
    if (stop != null) {
      throw stop;
    }
  }

  /** Why the task must stop now, or null: cancelled by the operator or past its deadline. */
  public TaskFailure stopReason() {
    if (cancelRequested) {
      return new TaskFailure(Reason.CANCELLED, "cancelled by the operator");
    }
    if (deadline != null && !clock.instant().isBefore(deadline)) {
      return new TaskFailure(Reason.TIMEOUT, "deadline " + deadline + " reached");
    }
    return null;
  }

  public synchronized void stage(Stage stage) {
    status.setStage(stage);
    reportWithinInterval();
  }

  /** A stage the operator acts on (Sent, Loaded): written at once, throwing if it cannot be. */
  synchronized void stageNow(Stage stage) {
    status.setStage(stage);
    report(true);
  }

  /**
   * When the first device left RUNNING; with the peer's resumedAt it gives a migration's downtime.
   */
  public synchronized void stoppedAt(Instant when) {
    status.setStoppedAt(when.toString());
  }

  /** When the last device ran again with its new state. */
  public synchronized void resumedAt(Instant when) {
    status.setResumedAt(when.toString());
  }

  public synchronized void precopyRounds(int rounds) {
    status.setPrecopyRounds(rounds);
  }

  /**
   * How PRE_COPY stands for one device after its latest round; the status shows all devices'
   * combined ({@link PrecopyPhase#combine}), within the report interval like a stage.
   */
  synchronized void precopy(String device, PrecopyProgress progress) {
    precopyByDevice.put(device, progress);
    status.setPrecopy(PrecopyPhase.combine(precopyByDevice.values()));
    reportWithinInterval();
  }

  /** Publishes where a Receive task listens, at once: the sender cannot start without it. */
  public synchronized void endpoint(dev.vfio.api.v1alpha1.TaskEndpoint endpoint) {
    status.setEndpoint(endpoint);
    report(true);
  }

  public synchronized void totalBytes(long total) {
    status.setTotalBytes(total);
  }

  /** Counts moved bytes; reports them when the last report is older than the interval. */
  public void addBytes(long bytes) {
    bytesDone.addAndGet(bytes);
    Instant now = clock.instant();
    synchronized (this) {
      if (Duration.between(lastReport, now).compareTo(reportInterval) >= 0) {
        report(false);
      }
    }
  }

  public synchronized void succeed(List<DeviceResult> devices, Long downtimeMillis) {
    status.setPhase(TaskPhase.Succeeded);
    status.setStage(Stage.Done);
    status.setDevices(devices);
    status.setDowntimeMillis(downtimeMillis);
    status.setCompletionTime(clock.instant().toString());
    ended = true;
    report(true);
  }

  /**
   * Succeeds with an outcome the devices already carry — the target of a committed switchover runs
   * — retrying the write until it is stored: a task failed instead would tell the operator the
   * opposite.
   */
  void succeedUntilStored(List<DeviceResult> devices) throws InterruptedException {
    while (true) {
      try {
        succeed(devices, null);
        return;
      } catch (KubernetesClientException e) {
        LOG.warn(
            "could not record that {} succeeded; retrying: {}",
            task.getMetadata().getName(),
            e.getMessage());
        Thread.sleep(RETRY.toMillis());
      }
    }
  }

  public synchronized void fail(TaskFailure failure, List<DeviceResult> devices) {
    VfioNodeTaskStatus failed = ended(failure, devices);
    status.setPhase(failed.getPhase());
    status.setStage(failed.getStage());
    status.setReason(failed.getReason());
    status.setMessage(failed.getMessage());
    status.setDevices(failed.getDevices());
    status.setCompletionTime(failed.getCompletionTime());
    ended = true;
    report(true);
  }

  /** The status of this task ended by {@code failure}, without writing it. */
  private VfioNodeTaskStatus ended(TaskFailure failure, List<DeviceResult> devices) {
    VfioNodeTaskStatus failed = Serialization.clone(status);
    boolean cancelled = failure.reason() == Reason.CANCELLED;
    failed.setPhase(cancelled ? TaskPhase.Cancelled : TaskPhase.Failed);
    failed.setStage(Stage.Done);
    failed.setReason(failure.reason().wire());
    failed.setMessage(failure.getMessage());
    if (devices != null && !devices.isEmpty()) {
      failed.setDevices(devices);
    }
    failed.setCompletionTime(clock.instant().toString());
    return failed;
  }

  /** Counts the task in the agent's metrics once it ended. */
  synchronized void recordOutcome(AgentMetrics metrics) {
    if (status.getPhase() == null || status.getPhase() == TaskPhase.Running) {
      return;
    }
    Duration took =
        status.getStartTime() == null
            ? Duration.ZERO
            : Duration.between(Instant.parse(status.getStartTime()), clock.instant());
    metrics.taskEnded(
        String.valueOf(task.getSpec().getOperation()),
        status.getPhase().name(),
        took,
        bytesDone.get(),
        status.getDowntimeMillis());
  }

  /** Writes the heartbeat when nothing else was written for the heartbeat interval. */
  private synchronized void heartbeat() {
    if (!ended && Duration.between(lastReport, clock.instant()).compareTo(heartbeatInterval) >= 0) {
      report(false);
    }
  }

  /** Stops the heartbeat and the deadline's watch; the task ended or was abandoned. */
  @Override
  public void close() {
    timers.forEach(t -> t.cancel(false));
  }

  /** Writes now if the last write is older than the interval, otherwise once it is. */
  private void reportWithinInterval() {
    Duration since = Duration.between(lastReport, clock.instant());
    if (since.compareTo(reportInterval) >= 0) {
      report(true);
    } else if (pendingReport == null) {
      pendingReport =
          delayedReports.schedule(
              this::reportPending, reportInterval.minus(since).toMillis(), TimeUnit.MILLISECONDS);
    }
  }

  private synchronized void reportPending() {
    // Null when a write came first and carried the change: then there is nothing left to write.
    if (pendingReport != null && !ended) {
      report(false);
    }
  }

  private void report(boolean mustSucceed) {
    if (pendingReport != null) {
      // This write carries whatever the pending one would have.
      pendingReport.cancel(false);
      pendingReport = null;
    }
    Instant now = clock.instant();
    status.setBytesDone(bytesDone.get());
    status.setHeartbeatTime(now.toString());
    lastReport = now;
    try {
      writer.accept(task, status);
    } catch (KubernetesClientException e) {
      if (mustSucceed) {
        throw e;
      }
      // A lost progress report is repaired by the next one; the data path must not stop for it.
      LOG.warn("progress report for {} failed: {}", task.getMetadata().getName(), e.getMessage());
    }
  }
}
