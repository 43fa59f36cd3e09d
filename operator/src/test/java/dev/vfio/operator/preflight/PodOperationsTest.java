package dev.vfio.operator.preflight;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vfio.api.v1alpha1.Reason;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class PodOperationsTest {
  static final String MIGRATION = "VfioMigration default/move";
  static final String SNAPSHOT = "VfioSnapshot default/nightly";

  final List<PodOperations.Hold> recorded = new ArrayList<>();
  final PodOperations pods = new PodOperations(namespace -> List.copyOf(recorded));

  @Test
  void anOperationOnAPodAnotherHoldsWaitsPodBusyNamingTheOther() {
    assertNull(pods.claim(MIGRATION, "default", List.of("source", "target")));

    Rejection busy = pods.claim(SNAPSHOT, "default", List.of("target"));

    assertEquals(Reason.POD_BUSY, busy.reason());
    assertTrue(busy.message().contains("pod target has " + MIGRATION), busy.message());
  }

  @Test
  void theWaitingOperationTakesThePodOnceTheFirstReleasedIt() {
    pods.claim(MIGRATION, "default", List.of("source", "target"));
    pods.claim(SNAPSHOT, "default", List.of("source"));

    pods.release(MIGRATION);

    assertNull(pods.claim(SNAPSHOT, "default", List.of("source")));
    assertEquals(
        Reason.POD_BUSY, pods.claim(MIGRATION, "default", List.of("source", "target")).reason());
  }

  @Test
  void anOperationRefusedOnePodTakesNoneOfTheOthers() {
    pods.claim(SNAPSHOT, "default", List.of("target"));
    pods.claim(MIGRATION, "default", List.of("source", "target"));

    assertNull(pods.claim("VfioSnapshot default/other", "default", List.of("source")));
  }

  @Test
  void claimingAgainIsHarmlessAndPodsOfOtherNamespacesAreOthers() {
    assertNull(pods.claim(SNAPSHOT, "default", List.of("source")));
    assertNull(pods.claim(SNAPSHOT, "default", List.of("source")));
    assertNull(pods.claim("VfioSnapshot team-b/nightly", "team-b", List.of("source")));
  }

  @Test
  void anOperationAnEarlierOperatorStartedHoldsItsPodsUntilItIsRecordedAsEnded() {
    recorded.add(new PodOperations.Hold(MIGRATION, List.of("source", "target")));

    Rejection busy = pods.claim(SNAPSHOT, "default", List.of("source"));

    assertEquals(Reason.POD_BUSY, busy.reason());
    assertTrue(busy.message().contains("pod source has " + MIGRATION), busy.message());
    recorded.clear();
    assertNull(pods.claim(SNAPSHOT, "default", List.of("source")));
  }

  @Test
  void theRecordOfAnOperationDoesNotStopItselfAndAHeldOperationIsNotAskedAgain() {
    recorded.add(new PodOperations.Hold(MIGRATION, List.of("source", "target")));
    assertNull(pods.claim(MIGRATION, "default", List.of("source", "target")));

    pods.hold(SNAPSHOT, "default", List.of("other"));
    recorded.add(new PodOperations.Hold("VfioMigration default/stale", List.of("other")));
    assertNull(pods.claim(SNAPSHOT, "default", List.of("other")));
  }
}
