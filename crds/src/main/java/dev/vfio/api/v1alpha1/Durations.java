package dev.vfio.api.v1alpha1;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Parses the duration strings of the API ({@code 90s}, {@code 10m}, {@code 1h30m}, {@code 500ms})
 * within a maximum, so that no value — however many digits it has — overflows here or in the time
 * arithmetic of a caller. The maxima are those the CRDs' CEL rules enforce ({@link ApiPatterns}).
 */
public final class Durations {
  /** {@code timeout} of a snapshot or a migration. */
  public static final Duration MAX_TIMEOUT = Duration.ofHours(24);

  /** {@code ttl} of a snapshot. */
  public static final Duration MAX_TTL = Duration.ofHours(87600);

  /** {@code timeout} of a hook. */
  public static final Duration MAX_HOOK_TIMEOUT = Duration.ofHours(1);

  private static final Pattern WHOLE = Pattern.compile(ApiPatterns.DURATION);
  private static final Pattern PART = Pattern.compile("([0-9]+)(ms|s|m|h)");

  /** More digits than a long holds. */
  private static final int MAX_DIGITS = 18;

  private Durations() {}

  /**
   * Parses {@code text}, or returns {@code fallback} when it is null or empty; anything longer than
   * the longest duration of the API ({@link #MAX_TTL}) is refused.
   */
  public static Duration parse(String text, Duration fallback) {
    return parse(null, text, fallback, MAX_TTL);
  }

  /**
   * Parses the value of {@code field} (e.g. "spec.timeout"), or returns {@code fallback} when it is
   * null or empty.
   *
   * @throws IllegalArgumentException naming the field and the value, when it is no duration or
   *     longer than {@code maximum}
   */
  public static Duration parse(String field, String text, Duration fallback, Duration maximum) {
    if (text == null || text.isEmpty()) {
      return fallback;
    }
    String named = (field == null ? "" : field + " ") + "'" + text + "'";
    if (!WHOLE.matcher(text).matches()) {
      throw new IllegalArgumentException(named + " is not a duration such as 90s, 10m or 1h30m");
    }
    long left = maximum.toMillis();
    long total = 0;
    Matcher part = PART.matcher(text);
    while (part.find()) {
      String digits = part.group(1).replaceFirst("^0+(?=.)", "");
      long unit =
          switch (part.group(2)) {
            case "ms" -> 1;
            case "s" -> 1_000;
            case "m" -> 60_000;
            default -> 3_600_000;
          };
      // Compared before it is multiplied, so that nothing overflows.
      if (digits.length() > MAX_DIGITS || Long.parseLong(digits) > left / unit) {
        throw new IllegalArgumentException(
            named + " is longer than the maximum of " + format(maximum));
      }
      long millis = Long.parseLong(digits) * unit;
      total += millis;
      left -= millis;
    }
    return Duration.ofMillis(total);
  }

  /** {@code duration} in the API's syntax, in its largest whole unit. */
  static String format(Duration duration) {
    long millis = duration.toMillis();
    if (millis % 3_600_000 == 0) {
      return millis / 3_600_000 + "h";
    }
    if (millis % 60_000 == 0) {
      return millis / 60_000 + "m";
    }
    return millis % 1_000 == 0 ? millis / 1_000 + "s" : millis + "ms";
  }
}
