package dev.vfio.operator.reconcile;

import dev.vfio.operator.events.Notice;
import dev.vfio.operator.metrics.Ending;
import dev.vfio.operator.tasks.TaskAction;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * What one pass of a reconciler decided from what it observed, before anything is written; a {@link
 * PlanRunner} carries it out. Plans are values, so the decisions are tested without an API server.
 *
 * @param status the status the object should have; null leaves it as it is
 * @param tasks the tasks to create, cancel or delete
 * @param notices the Events to record once the status is stored
 * @param ending the metrics of an operation this status ends, or null
 * @param requeue when to look again without an event, or null
 */
public record Plan<S>(
    S status, List<TaskAction> tasks, List<Notice> notices, Ending ending, Duration requeue) {
  public Plan {
    tasks = List.copyOf(tasks);
    notices = List.copyOf(notices);
  }

  /** Store {@code status}; nothing else yet. */
  public static <S> Plan<S> of(S status) {
    return new Plan<>(status, List.of(), List.of(), null, null);
  }

  /** Leave the status as it is and look again after {@code requeue}. */
  public static <S> Plan<S> waitFor(Duration requeue) {
    return new Plan<S>(null, List.of(), List.of(), null, null).requeue(requeue);
  }

  public Plan<S> with(TaskAction action) {
    List<TaskAction> more = new ArrayList<>(tasks);
    more.add(action);
    return new Plan<>(status, more, notices, ending, requeue);
  }

  public Plan<S> withAll(List<? extends TaskAction> actions) {
    List<TaskAction> more = new ArrayList<>(tasks);
    more.addAll(actions);
    return new Plan<>(status, more, notices, ending, requeue);
  }

  public Plan<S> notice(Notice notice) {
    List<Notice> more = new ArrayList<>(notices);
    more.add(notice);
    return new Plan<>(status, tasks, more, ending, requeue);
  }

  public Plan<S> ending(Ending ending) {
    return new Plan<>(status, tasks, notices, ending, requeue);
  }

  public Plan<S> requeue(Duration after) {
    return new Plan<>(status, tasks, notices, ending, after);
  }
}
