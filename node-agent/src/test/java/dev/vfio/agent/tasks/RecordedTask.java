package dev.vfio.agent.tasks;

import dev.vfio.api.v1alpha1.Stage;
import dev.vfio.api.v1alpha1.TaskEndpoint;
import dev.vfio.api.v1alpha1.TaskPhase;
import dev.vfio.api.v1alpha1.VfioNodeTask;
import dev.vfio.api.v1alpha1.VfioNodeTaskStatus;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Predicate;

/**
 * A claimed task and the context its operation runs in, with every status write kept instead of
 * sent to an API server. Every stage and every chunk of progress is written (a report interval of
 * zero), so a test can act at a precise point of an operation: cancel once bytes move, fail the
 * write that follows the devices' move to RESUMING.
 */
final class RecordedTask {
  private record Trigger(
      Predicate<VfioNodeTaskStatus> matches, Runnable action, AtomicBoolean fired) {}

  final VfioNodeTask task;
  final TaskContext context;

  /** The task as the API server holds it: every write lands here too. */
  final InMemoryTaskStore store;

  private final List<VfioNodeTaskStatus> writes = new CopyOnWriteArrayList<>();
  private final List<Trigger> triggers = new CopyOnWriteArrayList<>();
  private volatile Predicate<VfioNodeTaskStatus> refused = status -> false;

  RecordedTask(VfioNodeTask task, ScheduledExecutorService reports) {
    this.task = task;
    this.store = new InMemoryTaskStore(task);
    VfioNodeTaskStatus claimed = new VfioNodeTaskStatus();
    claimed.setPhase(TaskPhase.Running);
    claimed.setStage(Stage.Preparing);
    claimed.setStartTime(Clock.systemUTC().instant().toString());
    this.context =
        new TaskContext(
            task, claimed, this::write, store, Clock.systemUTC(), Duration.ZERO, reports);
  }

  /** The operator commits the switchover, and the agent's watch sees it. */
  void commit() {
    context.observe(store.commit());
  }

  /** The operator cancels the task, and the agent's watch sees it. */
  void cancel() {
    context.observe(store.cancel());
  }

  /** Runs {@code action} once, on the first status written that {@code matches}. */
  RecordedTask when(Predicate<VfioNodeTaskStatus> matches, Runnable action) {
    triggers.add(new Trigger(matches, action, new AtomicBoolean()));
    return this;
  }

  /** Status writes that {@code matches} fail, as when the API server cannot be reached. */
  RecordedTask refuseWritesWhen(Predicate<VfioNodeTaskStatus> matches) {
    refused = matches;
    return this;
  }

  /** The last status written; an operation that succeeded wrote its outcome last. */
  VfioNodeTaskStatus last() {
    return writes.isEmpty() ? null : writes.get(writes.size() - 1);
  }

  /** Where a Receive task listens, once it published it. */
  TaskEndpoint endpoint() {
    return writes.stream()
        .map(VfioNodeTaskStatus::getEndpoint)
        .filter(Objects::nonNull)
        .findFirst()
        .orElse(null);
  }

  private void write(VfioNodeTask written, VfioNodeTaskStatus status) {
    VfioNodeTaskStatus copy = Serialization.clone(status);
    writes.add(copy);
    for (Trigger trigger : triggers) {
      if (trigger.matches().test(copy) && trigger.fired().compareAndSet(false, true)) {
        trigger.action().run();
      }
    }
    if (refused.test(copy)) {
      throw new KubernetesClientException("the API server could not be reached (test)");
    }
    store.write(copy);
  }
}
