package dev.vfio.api.v1alpha1;

/**
 * CEL expressions shared by the CRD schema and the operator's own validation, so the two agree.
 * The API server enforces them; the operator re-checks them because an admin may have installed
 * the CRDs without validation or an older version of them.
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
  public static final String IMMUTABLE_RULE = "self == oldSelf";
  public static final String IMMUTABLE_MESSAGE =
      "spec is immutable: delete the resource and create a new one";

  private ApiPatterns() {}
}
