package dev.vfio.agent.tasks;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

/**
 * One lock per device address: a device has one migration state machine, so two tasks must never
 * drive it at once. Locks are taken in address order so that two tasks sharing devices cannot
 * deadlock.
 */
public final class DeviceLocks {
  /** How often a waiting task asks whether it must stop: a cancel is honoured within this. */
  private static final long STOP_CHECK_MILLIS = 200;

  private final Map<String, ReentrantLock> locks = new ConcurrentHashMap<>();

  /**
   * Blocks until every device is free; the returned handle releases them all. {@code stop} says why
   * the waiting task must give up (cancelled, past its deadline), or null: then the devices taken
   * so far are released and the task fails with that reason, having touched nothing.
   */
  public AutoCloseable acquire(List<String> addresses, Supplier<TaskFailure> stop)
      throws TaskFailure, InterruptedException {
    List<ReentrantLock> held = new ArrayList<>();
    try {
      for (String address : addresses.stream().distinct().sorted().toList()) {
        ReentrantLock lock = locks.computeIfAbsent(address, a -> new ReentrantLock());
        while (!lock.tryLock(STOP_CHECK_MILLIS, TimeUnit.MILLISECONDS)) {
          TaskFailure failure = stop.get();
          if (failure != null) {
            throw new TaskFailure(
                failure.reason(),
                failure.getMessage() + " while waiting for device " + address + " to be free");
          }
        }
        held.add(lock);
      }
    } catch (TaskFailure | InterruptedException e) {
      held.forEach(ReentrantLock::unlock);
      throw e;
    }
    return () -> held.forEach(ReentrantLock::unlock);
  }
}
