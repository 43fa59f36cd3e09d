package dev.vfio.api.v1alpha1;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class DurationsTest {

  @Test
  void partsAddUpInTheirUnits() {
    assertEquals(
        Duration.ofMinutes(90),
        Durations.parse("spec.timeout", "1h30m", null, Durations.MAX_TIMEOUT));
    assertEquals(
        Duration.ofMillis(1500),
        Durations.parse("spec.timeout", "1s500ms", null, Durations.MAX_TIMEOUT));
    assertEquals(
        Duration.ofHours(24),
        Durations.parse("spec.timeout", "000024h", null, Durations.MAX_TIMEOUT));
  }

  @Test
  void aMissingValueIsTheFallback() {
    assertEquals(
        Duration.ofMinutes(10),
        Durations.parse("spec.timeout", null, Duration.ofMinutes(10), Durations.MAX_TIMEOUT));
    assertEquals(
        Duration.ofMinutes(10),
        Durations.parse("spec.timeout", "", Duration.ofMinutes(10), Durations.MAX_TIMEOUT));
  }

  @Test
  void theMaximumItselfIsAccepted() {
    assertEquals(Durations.MAX_TTL, Durations.parse("spec.ttl", "87600h", null, Durations.MAX_TTL));
    assertEquals(
        Durations.MAX_TTL,
        Durations.parse("spec.ttl", "87599h59m59s1000ms", null, Durations.MAX_TTL));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "24h1ms",
        "10000000000000h",
        "12345678901234567890s",
        "99999999999999999999999999999999999999h",
        "9223372036854775807ms",
        "9223372036854775807h1h"
      })
  void aValuePastTheMaximumIsRefusedNamingTheFieldTheValueAndTheMaximum(String value) {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> Durations.parse("spec.timeout", value, null, Durations.MAX_TIMEOUT));
    assertEquals("spec.timeout '" + value + "' is longer than the maximum of 24h", e.getMessage());
  }

  @Test
  void aValueThatIsNoDurationIsRefusedNamingTheField() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> Durations.parse("spec.ttl", "10 minutes", null, Durations.MAX_TTL));
    assertEquals(
        "spec.ttl '10 minutes' is not a duration such as 90s, 10m or 1h30m", e.getMessage());
  }

  @Test
  void withoutAFieldAnyDurationTheApiAcceptsCanBeAddedToAnInstant() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> Durations.parse("10000000000000h", Duration.ZERO));
    assertEquals("'10000000000000h' is longer than the maximum of 87600h", e.getMessage());
    Instant.parse("2026-12-01T00:00:00Z").plus(Durations.parse("87600h", Duration.ZERO));
  }

  /** The CEL rules hold the same maxima as the operator's parsing. */
  @Test
  void theCrdRulesBoundEachDurationByTheSameMaximum() {
    assertEquals(
        "duration('" + Durations.format(Durations.MAX_TTL) + "'))", tail(ApiPatterns.TTL_RULE));
    assertEquals(
        "duration('" + Durations.format(Durations.MAX_TIMEOUT) + "'))",
        tail(ApiPatterns.TIMEOUT_RULE));
    assertEquals(
        "duration('" + Durations.format(Durations.MAX_HOOK_TIMEOUT) + "'))",
        tail(ApiPatterns.HOOK_TIMEOUT_RULE));
  }

  private static String tail(String rule) {
    return rule.substring(rule.lastIndexOf("duration('"));
  }
}
