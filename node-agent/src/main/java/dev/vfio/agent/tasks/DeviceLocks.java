package dev.vfio.agent.tasks;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One lock per device address: a device has one migration state machine, so two tasks must never
 * drive it at once. Locks are taken in address order so that two tasks sharing devices cannot
 * deadlock.
 */
public final class DeviceLocks {
  private final Map<String, ReentrantLock> locks = new ConcurrentHashMap<>();

  /** Blocks until every device is free; the returned handle releases them all. */
  public AutoCloseable acquire(List<String> addresses) throws InterruptedException {
    List<ReentrantLock> held = new java.util.ArrayList<>();
    try {
      for (String address : addresses.stream().distinct().sorted().toList()) {
        ReentrantLock lock = locks.computeIfAbsent(address, a -> new ReentrantLock());
        lock.lockInterruptibly();
        held.add(lock);
      }
    } catch (InterruptedException e) {
      held.forEach(ReentrantLock::unlock);
      throw e;
    }
    return () -> held.forEach(ReentrantLock::unlock);
  }
}
