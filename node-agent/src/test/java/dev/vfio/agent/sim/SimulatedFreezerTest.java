package dev.vfio.agent.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vfio.agent.freeze.SharedFreezer;
import dev.vfio.agent.pods.PodRef;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The simulated freezer as the agent uses it: shared between the operations on one pod. */
class SimulatedFreezerTest {
  static final PodRef POD = new PodRef("default", "gpu-workload", "pod-uid", Map.of());
  static final PodRef OTHER = new PodRef("default", "other", "other-uid", Map.of());

  @TempDir Path simulation;

  @Test
  void aPodStaysFrozenUntilItsLastHolderThawsIt() throws Exception {
    SimulatedFreezer marker = new SimulatedFreezer(simulation);
    SharedFreezer freezer = new SharedFreezer(marker);

    freezer.freeze(POD);
    freezer.freeze(POD);
    freezer.thaw(POD);
    assertTrue(marker.isFrozen(POD.uid()), "the second operation still holds the pod");

    freezer.thaw(POD);
    assertFalse(marker.isFrozen(POD.uid()));
  }

  @Test
  void holdsAreCountedPerPod() throws Exception {
    SimulatedFreezer marker = new SimulatedFreezer(simulation);
    SharedFreezer freezer = new SharedFreezer(marker);
    freezer.freeze(POD);
    freezer.freeze(OTHER);

    freezer.thaw(OTHER);

    assertTrue(marker.isFrozen(POD.uid()));
    assertFalse(marker.isFrozen(OTHER.uid()));
  }

  @Test
  void aThawWithoutAHoldThawsAPodAnEarlierAgentLeftFrozen() throws Exception {
    new SharedFreezer(new SimulatedFreezer(simulation)).freeze(POD);
    SimulatedFreezer marker = new SimulatedFreezer(simulation);

    new SharedFreezer(marker).thaw(POD);

    assertFalse(marker.isFrozen(POD.uid()));
  }

  @Test
  void aPodHeldFromManyThreadsIsFrozenWhileAnyHoldsItAndThawedAfterTheLast() throws Exception {
    SimulatedFreezer marker = new SimulatedFreezer(simulation);
    SharedFreezer freezer = new SharedFreezer(marker);
    int threads = 8;
    int rounds = 200;
    CyclicBarrier start = new CyclicBarrier(threads);
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      List<Future<Integer>> workers = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        workers.add(
            pool.submit(
                () -> {
                  start.await();
                  int thawedUnderMe = 0;
                  for (int i = 0; i < rounds; i++) {
                    freezer.freeze(POD);
                    if (!marker.isFrozen(POD.uid())) {
                      thawedUnderMe++;
                    }
                    freezer.thaw(POD);
                  }
                  return thawedUnderMe;
                }));
      }
      for (Future<Integer> worker : workers) {
        assertEquals(
            0,
            worker.get(30, TimeUnit.SECONDS),
            "rounds in which the pod was thawed under a holder");
      }
    } finally {
      pool.shutdownNow();
    }
    assertFalse(marker.isFrozen(POD.uid()));
  }
}
