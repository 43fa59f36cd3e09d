package dev.vfio.agent.tasks;

import java.time.Duration;
import java.util.function.Supplier;

/**
 * What a Send at Sent or a Receive at Loaded waits for: the operator's Commit, as the watch shows
 * it, or a reason to stop. The watch wakes the waiter; the timeout only notices a deadline.
 */
final class SwitchoverWait {
  private static final Duration POLL = Duration.ofMillis(200);
  private final Object monitor = new Object();
  private volatile boolean committed;

  /** The Commit was seen, through the watch or on a read. */
  void commit() {
    committed = true;
    wake();
  }

  /** Something the waiter checks changed (a cancel). */
  void wake() {
    synchronized (monitor) {
      monitor.notifyAll();
    }
  }

  /**
   * Null once committed — a Commit wins over a stop that came with it — otherwise the first reason
   * to stop that {@code stop} gives.
   */
  TaskFailure await(Supplier<TaskFailure> stop) throws InterruptedException {
    synchronized (monitor) {
      while (true) {
        if (committed) {
          return null;
        }
        TaskFailure reason = stop.get();
        if (reason != null) {
          return reason;
        }
        monitor.wait(POLL.toMillis());
      }
    }
  }
}
