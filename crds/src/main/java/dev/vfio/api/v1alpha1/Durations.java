package dev.vfio.api.v1alpha1;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Parses the duration strings of the API ({@code 90s}, {@code 10m}, {@code 1h30m}, {@code 500ms}). */
public final class Durations {
  private static final Pattern WHOLE = Pattern.compile(ApiPatterns.DURATION);
  private static final Pattern PART = Pattern.compile("([0-9]+)(ms|s|m|h)");

  private Durations() {}

  /** Parses {@code text}, or returns {@code fallback} when it is null or empty. */
  public static Duration parse(String text, Duration fallback) {
    if (text == null || text.isEmpty()) {
      return fallback;
    }
    if (!WHOLE.matcher(text).matches()) {
      throw new IllegalArgumentException(
          "'" + text + "' is not a duration such as 90s, 10m or 1h30m");
    }
    Duration total = Duration.ZERO;
    Matcher part = PART.matcher(text);
    while (part.find()) {
      long amount = Long.parseLong(part.group(1));
      total = total.plus(switch (part.group(2)) {
        case "ms" -> Duration.ofMillis(amount);
        case "s" -> Duration.ofSeconds(amount);
        case "m" -> Duration.ofMinutes(amount);
        default -> Duration.ofHours(amount);
      });
    }
    return total;
  }
}
