package dev.vfio.api.v1alpha1;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class ConditionsTest {
  static final Instant T1 = Instant.parse("2026-01-01T00:00:00Z");
  static final Instant T2 = Instant.parse("2026-01-01T00:05:00Z");

  @Test
  void conditionKeepsItsTransitionTimeWhenOnlyTheReasonChanges() {
    List<Condition> first =
        Conditions.with(null, new Condition("Ready", "False", "Pending", "waiting"), 1, T1);
    List<Condition> second =
        Conditions.with(first, new Condition("Ready", "False", "InProgress", "saving"), 1, T2);

    assertEquals(1, second.size());
    assertEquals("InProgress", second.get(0).getReason());
    assertEquals(T1.toString(), second.get(0).getLastTransitionTime());
  }

  @Test
  void conditionGetsANewTransitionTimeWhenItsStatusFlips() {
    List<Condition> first =
        Conditions.with(null, new Condition("Ready", "False", "InProgress", "saving"), 1, T1);
    List<Condition> second =
        Conditions.with(first, new Condition("Ready", "True", "Succeeded", "done"), 2, T2);

    assertEquals(T2.toString(), second.get(0).getLastTransitionTime());
    assertEquals(2L, second.get(0).getObservedGeneration());
  }

  @Test
  void otherConditionsAreNeverDropped() {
    List<Condition> first =
        Conditions.with(null, new Condition("Degraded", "False", "Fine", "ok"), 1, T1);
    List<Condition> second =
        Conditions.with(first, new Condition("Ready", "True", "Succeeded", "done"), 1, T2);

    assertEquals(List.of("Degraded", "Ready"), second.stream().map(Condition::getType).toList());
  }

  @Test
  void durationsParseTheApiSyntaxAndRefuseAnythingElse() {
    assertEquals(java.time.Duration.ofMinutes(90), Durations.parse("1h30m", null));
    assertEquals(java.time.Duration.ofMillis(500), Durations.parse("500ms", null));
    assertEquals(
        java.time.Duration.ofSeconds(7), Durations.parse(null, java.time.Duration.ofSeconds(7)));
    org.junit.jupiter.api.Assertions.assertThrows(
        IllegalArgumentException.class, () -> Durations.parse("10 minutes", null));
  }
}
