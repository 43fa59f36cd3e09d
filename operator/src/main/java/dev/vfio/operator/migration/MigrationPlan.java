package dev.vfio.operator.migration;

import dev.vfio.api.v1alpha1.DeviceMapping;
import io.fabric8.kubernetes.api.model.Pod;
import java.time.Duration;
import java.util.List;

/**
 * What preflight established about a migration that may start.
 *
 * @param sourcePod the running source, or null when restoring a snapshot
 * @param sourceNode its node, or null
 * @param snapshotClaim the claim holding the snapshot's blobs, or null for a live source
 * @param snapshotDirectory {@code <namespace>/<snapshot>}, or null
 * @param snapshotUid the snapshot's UID, which its blobs' tags bind, or null
 * @param targetPod the pod receiving the state
 * @param targetNode its node
 * @param pairs source device (or blob) to target device
 * @param expectedBytes the state size expected over all devices, 0 if unknown
 */
public record MigrationPlan(
    Pod sourcePod,
    String sourceNode,
    String snapshotClaim,
    String snapshotDirectory,
    String snapshotUid,
    Pod targetPod,
    String targetNode,
    List<DeviceMapping> pairs,
    long expectedBytes,
    Duration timeout) {

  public boolean fromSnapshot() {
    return sourcePod == null;
  }
}
