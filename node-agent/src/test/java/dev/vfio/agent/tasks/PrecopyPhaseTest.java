package dev.vfio.agent.tasks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vfio.agent.vfio.PrecopyInfo;
import dev.vfio.agent.vfio.PrecopyRound;
import dev.vfio.api.v1alpha1.PrecopyProgress;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class PrecopyPhaseTest {
  static final Duration SECOND = Duration.ofSeconds(1);

  static PrecopyRound round(long bytes, long initial, long dirty, boolean reinit) {
    return new PrecopyRound(bytes, true, Optional.of(new PrecopyInfo(initial, dirty, reinit)));
  }

  @Test
  void switchesOverOnceLittleIsPendingAndTheInitialDataIsSent() {
    PrecopyPhase phase = new PrecopyPhase(5, 1000);
    assertFalse(phase.switchoverReady(), "not before the first round");

    phase.record(round(10_000, 0, 5000, false), SECOND);
    assertFalse(phase.switchoverReady(), "5000 dirty bytes pending, the threshold is 1000");
    phase.record(round(5000, 0, 500, false), SECOND);
    assertTrue(phase.switchoverReady());
  }

  @Test
  void switchesOverWhenTheRoundsRunOutWhateverIsDirty() {
    PrecopyPhase phase = new PrecopyPhase(2, 1000);
    phase.record(round(10_000, 0, 5000, false), SECOND);
    phase.record(round(5000, 0, 5000, false), SECOND);
    assertTrue(phase.switchoverReady());
  }

  @Test
  void aReinitKeepsThePhaseGoingPastItsRoundsUntilTheNewInitialDataIsSent() {
    PrecopyPhase phase = new PrecopyPhase(1, 1000);
    phase.record(round(10_000, 8000, 0, true), SECOND);
    assertFalse(phase.switchoverReady(), "rounds used up, but 8000 initial bytes are new");

    phase.record(round(8000, 0, 0, false), SECOND);
    assertTrue(phase.switchoverReady());
    assertEquals(2, phase.rounds());
    assertEquals(1, phase.progress().getReinits());
  }

  @Test
  void theWaitForReinitDataIsBoundedByTwiceTheRounds() {
    PrecopyPhase phase = new PrecopyPhase(2, 1000);
    for (int i = 0; i < 3; i++) {
      phase.record(round(8000, 8000, 0, true), SECOND);
      assertFalse(phase.switchoverReady(), "round " + (i + 1));
    }
    phase.record(round(8000, 8000, 0, true), SECOND);
    assertTrue(phase.switchoverReady());
    assertEquals(4, phase.progress().getReinits());
  }

  @Test
  void aDeviceThatStopsSendingTheInitialDataItSaysItHasIsNotWaitedFor() {
    PrecopyPhase phase = new PrecopyPhase(1, 1000);
    phase.record(round(10_000, 8000, 0, true), SECOND);
    phase.record(round(0, 8000, 0, false), SECOND);
    assertTrue(phase.switchoverReady());
  }

  @Test
  void aReinitAfterAnEmptyRoundIsWaitedFor() {
    // An idle device drained before: an empty round is no stall when nothing was pending.
    PrecopyPhase phase = new PrecopyPhase(3, 0);
    phase.record(round(10_000, 0, 0, false), SECOND);
    phase.record(round(0, 8000, 0, true), SECOND);
    assertFalse(phase.switchoverReady());
  }

  @Test
  void withoutPrecopyInfoARoundThatDrainedTheDeviceSentTheInitialData() {
    PrecopyPhase drained = new PrecopyPhase(5, 1000);
    drained.record(new PrecopyRound(10_000, true, Optional.empty()), SECOND);
    assertTrue(drained.switchoverReady());

    PrecopyPhase cut = new PrecopyPhase(5, 1000);
    cut.record(new PrecopyRound(10_000, false, Optional.empty()), SECOND);
    assertFalse(cut.switchoverReady(), "a round cut short may have left initial data");
  }

  @Test
  void progressEstimatesTheSwitchoverAtTheRateReadSoFar() {
    PrecopyPhase phase = new PrecopyPhase(5, 1000);
    assertNull(phase.progress().getEstimatedSwitchoverMillis());
    phase.record(round(4000, 1000, 3000, false), Duration.ofMillis(2));

    PrecopyProgress progress = phase.progress();
    assertEquals(1000, progress.getInitialBytes());
    assertEquals(3000, progress.getDirtyBytes());
    assertEquals(1, progress.getRounds());
    assertEquals(0, progress.getReinits());
    assertEquals(2, progress.getEstimatedSwitchoverMillis(), "4000 pending at 2000 bytes/ms");

    phase.record(round(4000, 0, 100, false), Duration.ofMillis(2));
    assertEquals(0, phase.progress().getEstimatedSwitchoverMillis(), "ready to switch");
  }

  @Test
  void devicesCombineIntoSumsTheMostRoundsAndTheLatestSwitchover() {
    PrecopyProgress a = progress(1000L, 200L, 3, 1, 40L);
    PrecopyProgress b = progress(0L, 50L, 5, 0, 10L);

    PrecopyProgress both = PrecopyPhase.combine(List.of(a, b));

    assertEquals(1000, both.getInitialBytes());
    assertEquals(250, both.getDirtyBytes());
    assertEquals(5, both.getRounds());
    assertEquals(1, both.getReinits());
    assertEquals(40, both.getEstimatedSwitchoverMillis());
    PrecopyProgress unknown = PrecopyPhase.combine(List.of(a, progress(null, null, 0, 0, null)));
    assertNull(unknown.getEstimatedSwitchoverMillis());
    assertNull(unknown.getInitialBytes());
  }

  static PrecopyProgress progress(Long initial, Long dirty, int rounds, int reinits, Long millis) {
    PrecopyProgress progress = new PrecopyProgress();
    progress.setInitialBytes(initial);
    progress.setDirtyBytes(dirty);
    progress.setRounds(rounds);
    progress.setReinits(reinits);
    progress.setEstimatedSwitchoverMillis(millis);
    return progress;
  }
}
