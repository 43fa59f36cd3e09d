package dev.vfio.agent.tasks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vfio.api.v1alpha1.Reason;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class DeviceLocksTest {
  static final String A = "0000:3b:00.0";
  static final String B = "0000:3b:00.1";

  final DeviceLocks locks = new DeviceLocks();

  @Test
  void aTaskWaitingForABusyDeviceGivesUpWithItsStopReasonAndHoldsNothing() throws Exception {
    AutoCloseable first = locks.acquire(List.of(B), () -> null);
    AtomicReference<TaskFailure> stop = new AtomicReference<>();
    CompletableFuture<AutoCloseable> waiting =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                return locks.acquire(List.of(A, B), stop::get);
              } catch (TaskFailure | InterruptedException e) {
                throw new IllegalStateException(e);
              }
            });

    stop.set(new TaskFailure(Reason.CANCELLED, "cancelled by the operator"));

    ExecutionException ended =
        assertThrows(ExecutionException.class, () -> waiting.get(30, TimeUnit.SECONDS));
    TaskFailure failure = (TaskFailure) ended.getCause().getCause();
    assertEquals(Reason.CANCELLED, failure.reason());
    assertTrue(failure.getMessage().contains(B), failure::getMessage);
    // A, taken before the wait for B, was given back: another task gets it at once.
    AutoCloseable other = locks.acquire(List.of(A), () -> failedAtOnce());
    other.close();
    first.close();
  }

  private static TaskFailure failedAtOnce() {
    return new TaskFailure(Reason.TIMEOUT, "the lock was not free at once");
  }
}
