package dev.vfio.api.v1alpha1;

/**
 * The labels vfio-operator writes on Nodes so that a pod can be scheduled where its device state
 * loads, with a plain nodeSelector (docs/hardware.md). The operator writes them; the chart's
 * admission policy lets it change no other field of a Node.
 */
public final class NodeLabels {
  /**
   * Prefix of the compatibility labels: {@code compat.vfio.dev/<compatibility key>: "true"} on
   * every node with at least one migratable device of that key.
   */
  public static final String COMPATIBILITY_PREFIX = "compat.vfio.dev/";

  /** The value of every compatibility label. */
  public static final String PRESENT = "true";

  private NodeLabels() {}

  /** The label of devices whose fingerprint has {@code key}. */
  public static String compatibility(String key) {
    return COMPATIBILITY_PREFIX + key;
  }
}
