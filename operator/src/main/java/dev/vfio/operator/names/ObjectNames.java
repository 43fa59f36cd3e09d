package dev.vfio.operator.names;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Names of the objects the operator creates on behalf of a user's object. Each is a valid DNS-1123
 * subdomain of at most 253 characters for every valid name of that object, however long or awkward,
 * because the API server answers an invalid name with 422, which no retry fixes.
 */
public final class ObjectNames {
  private static final int MAX_NAME = 253;
  private static final int TASK_HASH = 10;
  private static final int EVENT_HASH = 16;

  private ObjectNames() {}

  /**
   * The VfioNodeTask doing {@code role} for the object named {@code parent}: {@code
   * <parent>-<role>}, or, when that is too long, {@code <cut of parent>-<hash>-<role>} with a hash
   * of the whole. Wherever earlier versions gave a valid name, it is the same one, so an upgraded
   * operator finds the tasks its predecessor created.
   *
   * @param role a DNS-1123 label such as {@code save} or {@code delete-blobs}
   */
  public static String task(String parent, String role) {
    String whole = parent + "-" + role;
    if (whole.length() <= MAX_NAME) {
      return whole;
    }
    return prefix(parent, MAX_NAME - role.length() - TASK_HASH - 2, '-')
        + "-"
        + hash(whole, TASK_HASH)
        + "-"
        + role;
  }

  /**
   * The Event about the object named {@code object} that {@code occurrence} identifies: {@code
   * <object>.<hash of occurrence>}, the object's name cut to fit. The same occurrence always gets
   * the same name, so a repeat finds the Event it can count up.
   */
  public static String event(String object, String occurrence) {
    return prefix(object, MAX_NAME - EVENT_HASH - 1, '.') + "." + hash(occurrence, EVENT_HASH);
  }

  /**
   * At most {@code length} leading characters of a valid name, cut where {@code separator} may
   * follow: no part of a subdomain ends in '-' or is empty, so a '.' must not come before either
   * separator and a '-' not before a '.'. A valid name starts with an alphanumeric, which stays.
   */
  private static String prefix(String name, int length, char separator) {
    int end = Math.min(name.length(), length);
    while (name.charAt(end - 1) == '.' || (separator == '.' && name.charAt(end - 1) == '-')) {
      end--;
    }
    return name.substring(0, end);
  }

  private static String hash(String text, int hexDigits) {
    try {
      return HexFormat.of()
          .formatHex(
              MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)))
          .substring(0, hexDigits);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK always has SHA-256", e);
    }
  }
}
