package dev.vfio.operator.schedule;

import com.cronutils.model.CronType;
import com.cronutils.model.definition.CronDefinitionBuilder;
import com.cronutils.model.time.ExecutionTime;
import com.cronutils.parser.CronParser;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.Map;
import java.util.Optional;

/**
 * A schedule's cron expression: five Unix fields, or one of the @-names, in UTC. Steps from an
 * instant to the run at or before it and to the next run after it.
 */
final class CronSchedule {
  private static final CronParser UNIX =
      new CronParser(CronDefinitionBuilder.instanceDefinitionFor(CronType.UNIX));

  /** The @-names CronJob accepts, as the five fields they stand for. */
  private static final Map<String, String> NAMED =
      Map.of(
          "@yearly", "0 0 1 1 *",
          "@annually", "0 0 1 1 *",
          "@monthly", "0 0 1 * *",
          "@weekly", "0 0 * * 0",
          "@daily", "0 0 * * *",
          "@midnight", "0 0 * * *",
          "@hourly", "0 * * * *");

  private final ExecutionTime times;

  private CronSchedule(ExecutionTime times) {
    this.times = times;
  }

  /**
   * @throws IllegalArgumentException naming what is wrong with {@code expression}
   */
  static CronSchedule parse(String expression) {
    String trimmed = expression == null ? "" : expression.trim();
    String fields = NAMED.getOrDefault(trimmed, trimmed);
    try {
      return new CronSchedule(ExecutionTime.forCron(UNIX.parse(fields).validate()));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "spec.schedule '"
              + expression
              + "' is not a cron schedule (five fields: minute hour day-of-month month"
              + " day-of-week, or @hourly, @daily, @weekly, @monthly, @yearly): "
              + e.getMessage(),
          e);
    }
  }

  /** The latest run at or before {@code now}. */
  Optional<Instant> lastAtOrBefore(Instant now) {
    ZonedDateTime at = now.atZone(ZoneOffset.UTC);
    if (times.isMatch(at.withNano(0).withSecond(0)) && at.getSecond() == 0 && at.getNano() == 0) {
      return Optional.of(now);
    }
    return times.lastExecution(at).map(ZonedDateTime::toInstant);
  }

  /** The first run after {@code now}. */
  Optional<Instant> nextAfter(Instant now) {
    return times.nextExecution(now.atZone(ZoneOffset.UTC)).map(ZonedDateTime::toInstant);
  }
}
