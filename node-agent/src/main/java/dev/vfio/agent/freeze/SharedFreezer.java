package dev.vfio.agent.freeze;

import dev.vfio.agent.pods.PodRef;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Counts the holds on each pod (by UID) over a {@link PodFreezer}: the first hold freezes the pod,
 * the last release thaws it. Freezes and thaws of one pod run one at a time, so a second holder
 * returns only once the pod is frozen; those of different pods do not wait for each other.
 */
public final class SharedFreezer implements Quiescer {
  private static final Logger LOG = LoggerFactory.getLogger(SharedFreezer.class);
  private final PodFreezer freezer;
  private final Map<String, Holds> pods = new ConcurrentHashMap<>();

  public SharedFreezer(PodFreezer freezer) {
    this.freezer = freezer;
  }

  /**
   * The holds on one pod. Guarded by its lock; once retired it has left the map and is not used
   * again.
   */
  private static final class Holds {
    final ReentrantLock lock = new ReentrantLock();
    int count;
    boolean retired;
  }

  @Override
  public void freeze(PodRef pod) throws IOException {
    Holds holds = lock(pod, true);
    try {
      if (holds.count == 0) {
        freezer.freeze(pod);
      }
      holds.count++;
    } finally {
      unlock(pod, holds);
    }
  }

  @Override
  public void thaw(PodRef pod) throws IOException {
    // Not interruptible: a cancelled task must still let go of its pod.
    Holds holds = lock(pod, false);
    try {
      if (holds.count > 1) {
        holds.count--;
        LOG.info("pod {} stays frozen for {} other hold(s)", pod, holds.count);
        return;
      }
      // The hold is released even when the thaw fails: the caller reports the failure, and a
      // later freeze must freeze the pod again rather than trust a count.
      holds.count = 0;
      freezer.thaw(pod);
    } finally {
      unlock(pod, holds);
    }
  }

  private Holds lock(PodRef pod, boolean interruptibly) throws InterruptedIOException {
    while (true) {
      Holds holds = pods.computeIfAbsent(pod.uid(), uid -> new Holds());
      if (interruptibly) {
        try {
          holds.lock.lockInterruptibly();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new InterruptedIOException("interrupted while waiting to freeze pod " + pod);
        }
      } else {
        holds.lock.lock();
      }
      if (!holds.retired) {
        return holds;
      }
      holds.lock.unlock();
    }
  }

  /**
   * A pod nobody holds leaves the map, so that the map does not grow with every pod the node ever
   * ran.
   */
  private void unlock(PodRef pod, Holds holds) {
    if (holds.count == 0) {
      holds.retired = true;
      pods.remove(pod.uid(), holds);
    }
    holds.lock.unlock();
  }
}
