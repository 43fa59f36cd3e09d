package dev.vfio.api.v1alpha1;

/**
 * CEL expressions shared by the CRD schema and the operator's own validation, so the two agree. The
 * API server enforces them; the operator re-checks them because an admin may have installed the
 * CRDs without validation or an older version of them.
 */
public final class ApiPatterns {
  public static final String DNS_SUBDOMAIN =
      "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$";
  public static final String DEVICE =
      "^([0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\\.[0-7]"
          + "|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$";
  public static final String DURATION = "^([0-9]+(ms|s|m|h))+$";

  public static final String DNS_SUBDOMAIN_RULE =
      "self.size() <= 253 && self.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$')";
  public static final String DNS_SUBDOMAIN_MESSAGE =
      "must be a lowercase RFC 1123 subdomain: a-z, 0-9, '-' and '.', at most 253 characters";
  public static final String DEVICE_RULE =
      "self.matches('^([0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\\\\.[0-7]"
          + "|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$')";
  public static final String DEVICE_LIST_RULE =
      "self.all(d, d.matches('^([0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\\\\.[0-7]"
          + "|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$'))";
  public static final String DEVICE_MESSAGE =
      "devices are lowercase PCI addresses (0000:65:00.0) or mdev UUIDs";
  public static final String DURATION_RULE = "self.matches('^([0-9]+(ms|s|m|h))+$')";
  public static final String DURATION_MESSAGE = "must be a duration such as 90s, 10m or 1h30m";

  /*
   * The bound of a duration field, as the start of a rule that ends with the maximum. The first
   * two alternatives leave a value that is too long or malformed to maxLength and DURATION_RULE.
   * duration() fails on a value past 292 years instead of answering false, so a value is compared
   * only when no part has more digits than the longest duration the API accepts (87600h) needs:
   * up to 32 characters of such parts add up to far less than 292 years, and any value with a
   * longer part is too long for every bound. Durations holds the same maxima.
   */
  private static final String DURATION_AT_MOST =
      "self.size() > 32"
          + " || !self.matches('^([0-9]+(ms|s|m|h))+$')"
          + " || (self.matches('^(0*[0-9]{1,5}h|0*[0-9]{1,7}m|0*[0-9]{1,9}s|0*[0-9]{1,12}ms)+$')"
          + " && duration(self) <= duration('";
  public static final String TIMEOUT_RULE = DURATION_AT_MOST + "24h'))";
  public static final String TIMEOUT_MESSAGE = "must be at most 24h";
  public static final String TTL_RULE = DURATION_AT_MOST + "87600h'))";
  public static final String TTL_MESSAGE = "must be at most 87600h (10 years)";
  public static final String HOOK_TIMEOUT_RULE = DURATION_AT_MOST + "1h'))";
  public static final String HOOK_TIMEOUT_MESSAGE = "must be at most 1h";

  /*
   * A device map pairs each source with one target and each target with one source. A rule
   * rather than list-type map: the server would name a duplicate key as a Go map literal. Each
   * costs the square of the list's maxItems, which must therefore stay bounded.
   */
  public static final String UNIQUE_SOURCES_RULE =
      "self.all(m, !has(m.source) || self.exists_one(n, has(n.source) && n.source == m.source))";
  public static final String UNIQUE_SOURCES_MESSAGE =
      "deviceMap names a source device twice: each source device goes to exactly one target";
  public static final String UNIQUE_TARGETS_RULE =
      "self.all(m, !has(m.target) || self.exists_one(n, has(n.target) && n.target == m.target))";
  public static final String UNIQUE_TARGETS_MESSAGE =
      "deviceMap names a target device twice: each target device receives exactly one source";
  public static final String IMMUTABLE_RULE = "self == oldSelf";
  public static final String IMMUTABLE_MESSAGE =
      "spec is immutable: delete the resource and create a new one";

  /*
   * A transition rule on the task spec rather than on the field: a field's own rule does not run
   * when the field is removed.
   */
  public static final String SET_ONCE_SWITCHOVER_RULE =
      "!has(oldSelf.switchover) || (has(self.switchover) && self.switchover == oldSelf.switchover)";
  public static final String SET_ONCE_SWITCHOVER_MESSAGE =
      "switchover cannot change or be removed once set";

  private ApiPatterns() {}
}
