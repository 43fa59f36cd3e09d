package dev.vfio.operator.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class CronScheduleTest {
  @ParameterizedTest
  @CsvSource({
    "0 3 * * *, 2026-12-07T10:15:00Z, 2026-12-07T03:00:00Z, 2026-12-08T03:00:00Z",
    "*/15 * * * *, 2026-12-07T10:15:00Z, 2026-12-07T10:15:00Z, 2026-12-07T10:30:00Z",
    "*/15 * * * *, 2026-12-07T10:15:00.5Z, 2026-12-07T10:15:00Z, 2026-12-07T10:30:00Z",
    "@daily, 2026-12-07T10:15:00Z, 2026-12-07T00:00:00Z, 2026-12-08T00:00:00Z",
    "@hourly, 2026-12-07T10:15:00Z, 2026-12-07T10:00:00Z, 2026-12-07T11:00:00Z",
    "0 0 * * 0, 2026-12-07T10:15:00Z, 2026-12-06T00:00:00Z, 2026-12-13T00:00:00Z"
  })
  void stepsToTheRunAtOrBeforeAndTheRunAfterInUtc(
      String expression, Instant now, Instant last, Instant next) {
    CronSchedule schedule = CronSchedule.parse(expression);

    assertEquals(Optional.of(last), schedule.lastAtOrBefore(now));
    assertEquals(Optional.of(next), schedule.nextAfter(now));
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "every day", "61 * * * *", "* * * *", "0 3 * * * *", "@often"})
  void aScheduleThatIsNotCronIsRefusedNamingTheField(String expression) {
    IllegalArgumentException refused =
        assertThrows(IllegalArgumentException.class, () -> CronSchedule.parse(expression));
    assertTrue(refused.getMessage().startsWith("spec.schedule '"), refused.getMessage());
  }

  @Test
  void aScheduleWithoutSpacesAroundIsTheSame() {
    assertEquals(
        CronSchedule.parse("0 3 * * *").nextAfter(Instant.parse("2026-12-07T10:15:00Z")),
        CronSchedule.parse(" 0 3 * * * ").nextAfter(Instant.parse("2026-12-07T10:15:00Z")));
  }
}
