package dev.vfio.operator.labels;

import dev.vfio.api.v1alpha1.DeviceFingerprint;
import dev.vfio.api.v1alpha1.NodeDevice;
import dev.vfio.api.v1alpha1.NodeLabels;
import dev.vfio.api.v1alpha1.VfioNode;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The compatibility labels a node should carry, derived from its VfioNode: one {@code
 * compat.vfio.dev/<key>: "true"} per compatibility key among its devices that can take state
 * (STOP_COPY). A device the agent published no fingerprint for (an older agent) gives none. The key
 * is computed here from the fingerprint's fields, not copied from the agent's string, so that a
 * label name is always 16 hex digits whatever a status says.
 */
public final class CompatibilityLabels {
  private CompatibilityLabels() {}

  /** The label keys {@code node}'s devices call for, sorted. */
  public static Set<String> of(VfioNode node) {
    Set<String> labels = new TreeSet<>();
    List<NodeDevice> devices =
        node.getStatus() == null || node.getStatus().getDevices() == null
            ? List.of()
            : node.getStatus().getDevices();
    for (NodeDevice device : devices) {
      DeviceFingerprint fingerprint = device.getFingerprint();
      boolean migratable =
          device.getMigrationFlags() != null && device.getMigrationFlags().contains("STOP_COPY");
      if (fingerprint != null && migratable) {
        labels.add(NodeLabels.compatibility(fingerprint.computeKey()));
      }
    }
    return labels;
  }

  /**
   * The labels of a JSON merge patch taking a node with {@code current} labels to {@code desired}
   * compatibility labels: added ones {@code "true"}, stale ones {@code null} (removed); labels
   * outside the prefix are never named. Empty when the node already carries exactly these.
   */
  public static Map<String, String> changes(Map<String, String> current, Set<String> desired) {
    Map<String, String> changes = new LinkedHashMap<>();
    Map<String, String> labels = current == null ? Map.of() : current;
    for (String label : desired) {
      if (!NodeLabels.PRESENT.equals(labels.get(label))) {
        changes.put(label, NodeLabels.PRESENT);
      }
    }
    for (String label : new TreeSet<>(labels.keySet())) {
      if (label.startsWith(NodeLabels.COMPATIBILITY_PREFIX) && !desired.contains(label)) {
        changes.put(label, null);
      }
    }
    return changes;
  }
}
