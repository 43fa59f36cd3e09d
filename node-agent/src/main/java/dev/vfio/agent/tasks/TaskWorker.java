package dev.vfio.agent.tasks;

import dev.vfio.agent.metrics.AgentMetrics;
import dev.vfio.api.v1alpha1.Reasons;
import dev.vfio.api.v1alpha1.Stage;
import dev.vfio.api.v1alpha1.TaskOperation;
import dev.vfio.api.v1alpha1.TaskPhase;
import dev.vfio.api.v1alpha1.Unrecognized;
import dev.vfio.api.v1alpha1.VfioNodeTask;
import dev.vfio.api.v1alpha1.VfioNodeTaskStatus;
import io.fabric8.kubernetes.client.KubernetesClient;
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
  private final ExecutorService pool;
  private final ScheduledExecutorService delayedReports;
  private final Set<String> accepted = ConcurrentHashMap.newKeySet();
  private final Map<String, TaskContext> running = new ConcurrentHashMap<>();
  private final AgentMetrics metrics;
  private SharedIndexInformer<VfioNodeTask> informer;

  public TaskWorker(
      KubernetesClient client,
      String nodeName,
      String agentId,
      Map<TaskOperation, NodeOperation> operations,
      int concurrency,
      Clock clock,
      Duration reportInterval,
      AgentMetrics metrics) {
    this.metrics = metrics;
    this.client = client;
    this.nodeName = nodeName;
    this.agentId = agentId;
    this.operations = Map.copyOf(operations);
    this.writer = new TaskStatusWriter(client);
    this.clock = clock;
    this.reportInterval = reportInterval;
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
    informer =
        client
            .resources(VfioNodeTask.class)
            .inAnyNamespace()
            .withField(VfioNodeTask.NODE_FIELD, nodeName)
            .inform(
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

  private void observe(VfioNodeTask task) {
    String uid = task.getMetadata().getUid();
    TaskContext context = running.get(uid);
    if (context != null) {
      context.observe(task);
    }
    TaskPhase phase = task.getStatus() == null ? null : task.getStatus().getPhase();
    if ((phase == null || phase == TaskPhase.Pending) && accepted.add(uid)) {
      pool.submit(() -> run(task));
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
        accepted.remove(uid);
        return;
      }
      TaskContext context =
          new TaskContext(
              task, claimed, writer::write, writer, clock, reportInterval, delayedReports);
      running.put(uid, context);
      context.observe(task);
      try {
        List<Unrecognized> unknown = task.getSpec().unrecognized("spec");
        if (!unknown.isEmpty()) {
          // Refused, not run without the settings it does not know: the operator asked for them.
          throw new TaskFailure(
              Reasons.INVALID_SPEC,
              unknown.stream().map(u -> u.describe("this agent")).collect(Collectors.joining("; "))
                  + "; the operator may be newer than the agent: upgrade the node agent");
        }
        NodeOperation operation = operations.get(task.getSpec().getOperation());
        if (operation == null) {
          throw new TaskFailure(
              Reasons.INVALID_SPEC,
              "operation "
                  + task.getSpec().getOperation()
                  + " is not supported by this agent version");
        }
        LOG.info("running {}", task.getSpec().getOperation());
        try (AutoCloseable devices = deviceLocks.acquire(operation.devices(context))) {
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
        context.fail(new TaskFailure(Reasons.DEVICE_ERROR, "the agent failed: " + e), null);
      } finally {
        running.remove(uid);
        context.recordOutcome(metrics);
      }
    } catch (RuntimeException e) {
      // The claim itself failed (API server unreachable): forget the task so the next event retries
      // it.
      LOG.warn("could not claim task {}: {}", task.getMetadata().getName(), e.getMessage());
      accepted.remove(uid);
    }
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
