package dev.vfio.operator.names;

import java.util.regex.Pattern;
import java.util.stream.IntStream;
import java.util.stream.Stream;

/**
 * Kubernetes' rules for names and label values, written out here from the API server's validation
 * rather than taken from the code under test, and the most awkward names they allow.
 */
public final class ValidNames {
  /** The longest object name the API server accepts. */
  public static final int MAX = 253;

  private static final Pattern SUBDOMAIN =
      Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");
  private static final Pattern LABEL_VALUE =
      Pattern.compile("(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?");

  private ValidNames() {}

  /** Whether the API server takes {@code name} as the name of an object (a DNS-1123 subdomain). */
  public static boolean isSubdomain(String name) {
    return name.length() <= MAX && SUBDOMAIN.matcher(name).matches();
  }

  public static boolean isLabelValue(String value) {
    return value.length() <= 63 && LABEL_VALUE.matcher(value).matches();
  }

  /**
   * Valid names of every length up to {@value #MAX} in letters, digits and one-character parts;
   * and, at the lengths that derivations cut (the longest twenty), with a '.', a '-' or "--" at
   * every index one may stand, so that wherever a cut falls, some name has a separator right there.
   */
  public static Stream<String> awkward() {
    Stream<String> plain =
        IntStream.rangeClosed(1, MAX)
            .boxed()
            .flatMap(
                length ->
                    Stream.of(
                        "a".repeat(length),
                        digits(length),
                        "1.".repeat(length).substring(0, length)));
    Stream<String> separated =
        IntStream.rangeClosed(MAX - 20, MAX)
            .boxed()
            .flatMap(
                length ->
                    IntStream.range(1, length - 1)
                        .boxed()
                        .flatMap(
                            at ->
                                Stream.of(
                                    withAt(length, at, "."),
                                    withAt(length, at, "-"),
                                    withAt(length, at, "--"))));
    return Stream.concat(plain, separated).filter(ValidNames::isSubdomain);
  }

  /** A name of digits, {@code length} long, with {@code separator} at index {@code at}. */
  public static String withAt(int length, int at, String separator) {
    String digits = digits(length);
    return digits.substring(0, at) + separator + digits.substring(at + separator.length());
  }

  private static String digits(int length) {
    return "0123456789".repeat(length / 10 + 1).substring(0, length);
  }
}
