package dev.vfio.agent.tasks;

import dev.vfio.agent.metrics.AgentMetrics;
import dev.vfio.api.v1alpha1.Reason;
import dev.vfio.api.v1alpha1.Stage;
import dev.vfio.api.v1alpha1.TaskOperation;
import dev.vfio.api.v1alpha1.TaskPhase;
import dev.vfio.api.v1alpha1.Unrecognized;
import dev.vfio.api.v1alpha1.VfioNodeTask;
import dev.vfio.api.v1alpha1.VfioNodeTaskStatus;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.Informable;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * Watches the tasks for this node (and only those: the API server selects them by {@code
 * spec.nodeName}), claims each new one with an optimistic status write, and runs it on a bounded
 * pool. The informer relists after a dropped watch (410 Gone included), so a task created while the
 * watch was down is still seen.
 *
 * <p>The queue in front of the pool is bounded too: a task beyond it is not taken into memory but
 * left unclaimed, Pending with reason AgentBusy, and taken once a running task ends (or at the next
 * resync). A task cancelled before it was taken ends Cancelled at once, never having run.
 */
public final class TaskWorker implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(TaskWorker.class);
  private static final long RESYNC_MILLIS = 30_000;

  private final KubernetesClient client;
  private final String nodeName;
  private final String agentId;
  private final Map<TaskOperation, NodeOperation> operations;
  private final TaskStatusWriter writer;
  private final DeviceLocks deviceLocks = new DeviceLocks();
  private final Clock clock;
  private final Duration reportInterval;
  private final Duration heartbeatInterval;
  private final ExecutorService pool;
  private final ScheduledExecutorService delayedReports;
  private final Set<String> accepted = ConcurrentHashMap.newKeySet();

  /** Accepted tasks that have not ended: those running and those queued for a thread. */
  private final Set<String> inFlight = ConcurrentHashMap.newKeySet();

  /** Tasks told they wait (AgentBusy), so that each is told once. */
  private final Set<String> toldWaiting = ConcurrentHashMap.newKeySet();

  private final int concurrency;
  private final int queueLimit;
  private final Map<String, TaskContext> running = new ConcurrentHashMap<>();
  private final AgentMetrics metrics;
  private SharedIndexInformer<VfioNodeTask> informer;

  public TaskWorker(
      KubernetesClient client,
      String nodeName,
      String agentId,
      Map<TaskOperation, NodeOperation> operations,
      int concurrency,
      int queueLimit,
      Clock clock,
      Duration reportInterval,
      Duration heartbeatInterval,
      AgentMetrics metrics) {
    this.metrics = metrics;
    this.client = client;
    this.nodeName = nodeName;
    this.agentId = agentId;
    this.operations = Map.copyOf(operations);
    this.writer = new TaskStatusWriter(client);
    this.clock = clock;
    this.concurrency = concurrency;
    this.queueLimit = queueLimit;
    this.reportInterval = reportInterval;
    this.heartbeatInterval = heartbeatInterval;
    this.pool =
        Executors.newFixedThreadPool(
            concurrency,
            runnable -> {
              Thread thread = new Thread(runnable, "task-worker");
              thread.setDaemon(true);
              return thread;
            });
    this.delayedReports =
        Executors.newSingleThreadScheduledExecutor(
            runnable -> {
              Thread thread = new Thread(runnable, "task-reports");
              thread.setDaemon(true);
              return thread;
            });
  }

  public void start() {
    start(
        client
            .resources(VfioNodeTask.class)
            .inAnyNamespace()
            .withField(VfioNodeTask.NODE_FIELD, nodeName));
  }

  /** Watches {@code tasks}: this node's, or in a test whatever the API mock can select. */
  void start(Informable<VfioNodeTask> tasks) {
    informer =
        tasks.inform(
            new ResourceEventHandler<>() {
              @Override
              public void onAdd(VfioNodeTask task) {
                observe(task);
              }

              @Override
              public void onUpdate(VfioNodeTask old, VfioNodeTask task) {
                observe(task);
              }

              @Override
              public void onDelete(VfioNodeTask task, boolean unknownFinalState) {
                TaskContext context = running.get(task.getMetadata().getUid());
                if (context != null) {
                  context.requestCancel();
                }
              }
            },
            RESYNC_MILLIS);
  }

  /** Whether the watch on this node's tasks runs; what the liveness probe asks. */
  public boolean watching() {
    return informer != null && informer.isRunning();
  }

  public TaskStatusWriter statusWriter() {
    return writer;
  }

  private synchronized void observe(VfioNodeTask task) {
    String uid = task.getMetadata().getUid();
    boolean cancelled = Boolean.TRUE.equals(task.getSpec().getCancelRequested());
    TaskContext context = running.get(uid);
    if (context != null) {
      context.observe(task);
    }
    TaskPhase phase = task.getStatus() == null ? null : task.getStatus().getPhase();
    if ((phase != null && phase != TaskPhase.Pending) || accepted.contains(uid)) {
      return;
    }
    if (cancelled) {
      delayedReports.execute(() -> endUnclaimed(task));
      return;
    }
    if (inFlight.size() >= concurrency + queueLimit) {
      if (toldWaiting.add(uid)) {
        int waiting = inFlight.size();
        delayedReports.execute(() -> tellWaiting(task, waiting));
      }
      return;
    }
    accepted.add(uid);
    inFlight.add(uid);
    toldWaiting.remove(uid);
    pool.submit(() -> run(task));
  }

  /** Offers the tasks left waiting a freed place in the queue. */
  private void takeWaiting() {
    if (informer != null) {
      informer.getStore().list().forEach(this::observe);
    }
  }

  private void tellWaiting(VfioNodeTask task, int inFlightThen) {
    VfioNodeTaskStatus waiting = new VfioNodeTaskStatus();
    waiting.setPhase(TaskPhase.Pending);
    waiting.setReason(Reason.AGENT_BUSY.wire());
    waiting.setMessage(
        "the agent on node "
            + nodeName
            + " runs or has queued "
            + inFlightThen
            + " tasks, its most (VFIO_TASK_CONCURRENCY="
            + concurrency
            + " running, VFIO_TASK_QUEUE="
            + queueLimit
            + " queued); this one waits unclaimed and starts when one ends");
    try {
      // Conditional: a task taken or cancelled meanwhile keeps what it has.
      writer.claim(task, waiting);
    } catch (RuntimeException e) {
      LOG.warn(
          "could not tell task {} that it waits: {}", task.getMetadata().getName(), e.getMessage());
    }
  }

  private void endUnclaimed(VfioNodeTask task) {
    VfioNodeTaskStatus ended = new VfioNodeTaskStatus();
    ended.setPhase(TaskPhase.Cancelled);
    ended.setStage(Stage.Done);
    ended.setReason(Reason.CANCELLED.wire());
    ended.setMessage("cancelled by the operator before the agent started it; nothing was touched");
    ended.setClaimedBy(agentId);
    ended.setCompletionTime(clock.instant().toString());
    try {
      // Conditional like a claim: if the task changed meanwhile, the next event decides again.
      writer.claim(task, ended);
    } catch (RuntimeException e) {
      LOG.warn("could not end cancelled task {}: {}", task.getMetadata().getName(), e.getMessage());
    }
  }

  private void run(VfioNodeTask task) {
    String uid = task.getMetadata().getUid();
    try (var ignored =
        MDC.putCloseable(
            "resource",
            "vfionodetask/"
                + task.getMetadata().getNamespace()
                + "/"
                + task.getMetadata().getName())) {
      VfioNodeTaskStatus claimed = new VfioNodeTaskStatus();
      claimed.setPhase(TaskPhase.Running);
      claimed.setStage(Stage.Preparing);
      claimed.setClaimedBy(agentId);
      claimed.setStartTime(clock.instant().toString());
      claimed.setHeartbeatTime(claimed.getStartTime());
      if (!writer.claim(task, claimed)) {
        LOG.info("task changed before it could be claimed; waiting for the next event");
        forget(uid);
        return;
      }
      TaskContext context =
          new TaskContext(
              task,
              claimed,
              writer::write,
              writer,
              clock,
              reportInterval,
              heartbeatInterval,
              delayedReports);
      running.put(uid, context);
      context.observe(task);
      try {
        List<Unrecognized> unknown = task.getSpec().unrecognized("spec");
        if (!unknown.isEmpty()) {
          // Refused, not run without the settings it does not know: the operator asked for them.
          throw new TaskFailure(
              Reason.INVALID_SPEC,
              unknown.stream().map(u -> u.describe("this agent")).collect(Collectors.joining("; "))
                  + "; the operator may be newer than the agent: upgrade the node agent");
        }
        NodeOperation operation = operations.get(task.getSpec().getOperation());
        if (operation == null) {
          throw new TaskFailure(
              Reason.INVALID_SPEC,
              "operation "
                  + task.getSpec().getOperation()
                  + " is not supported by this agent version");
        }
        LOG.info("running {}", task.getSpec().getOperation());
        try (AutoCloseable devices =
            deviceLocks.acquire(operation.devices(context), context::stopReason)) {
          context.checkpoint();
          operation.run(context);
        }
        LOG.info("task finished");
      } catch (TaskFailure failure) {
        LOG.warn("task failed: {}: {}", failure.reason(), failure.getMessage());
        context.fail(failure, null);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } catch (Exception e) {
        LOG.error("task failed unexpectedly", e);
        context.fail(new TaskFailure(Reason.DEVICE_ERROR, "the agent failed: " + e), null);
      } finally {
        context.close();
        running.remove(uid);
        context.recordOutcome(metrics);
        inFlight.remove(uid);
        takeWaiting();
      }
    } catch (RuntimeException e) {
      // The claim itself failed (API server unreachable): forget the task so the next event retries
      // it.
      LOG.warn("could not claim task {}: {}", task.getMetadata().getName(), e.getMessage());
      forget(uid);
    }
  }

  /** A task not claimed after all: the next event about it decides again. */
  private synchronized void forget(String uid) {
    accepted.remove(uid);
    inFlight.remove(uid);
    toldWaiting.remove(uid);
  }

  @Override
  public void close() {
    if (informer != null) {
      informer.close();
    }
    pool.shutdownNow();
    delayedReports.shutdownNow();
    try {
      pool.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
