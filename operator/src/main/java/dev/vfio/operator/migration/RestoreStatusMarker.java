package dev.vfio.operator.migration;

import dev.vfio.api.v1alpha1.VfioMigration;
import dev.vfio.api.v1alpha1.VfioMigrationSpec;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tells a target workload, through its pod's {@link #RESTORE_STATUS} annotation, that a failed
 * migration brings it no state. Only a pod that opted in as a restore target is marked, and never
 * the source: a running workload must not read that its own state failed to arrive.
 */
final class RestoreStatusMarker {
  /** Annotation the target agent (and, on failure, the operator) sets on the target pod. */
  static final String RESTORE_STATUS = "vfio.dev/restore-status";
  private static final Logger LOG = LoggerFactory.getLogger(RestoreStatusMarker.class);

  private final KubernetesClient client;

  RestoreStatusMarker(KubernetesClient client) {
    this.client = client;
  }

  void markFailed(VfioMigration migration) {
    if (!namesAnotherTarget(migration.getSpec())) {
      return;
    }
    try {
      Pod target = client.pods().inNamespace(migration.getMetadata().getNamespace())
          .withName(migration.getSpec().getTargetPodName()).get();
      if (target == null || !MigrationPreflight.optedIn(target)) {
        return;
      }
      // The UID makes the patch conditional: a pod recreated under the name since the read has
      // another, which metadata.uid cannot change to, and the API server refuses the patch.
      client.resource(target).patch(PatchContext.of(PatchType.JSON_MERGE), Serialization.asJson(Map.of("metadata",
          Map.of("uid", target.getMetadata().getUid(), "annotations", Map.of(RESTORE_STATUS, "Failed")))));
    } catch (KubernetesClientException e) {
      // The target pod may be gone, which is itself a reason the migration failed.
      LOG.debug("could not mark the target pod: {}", e.getMessage());
    }
  }

  /** Whether the spec names a target pod that is not also its source. */
  static boolean namesAnotherTarget(VfioMigrationSpec spec) {
    return spec != null && spec.getTargetPodName() != null
        && (spec.getSource() == null || !spec.getTargetPodName().equals(spec.getSource().getPodName()));
  }
}
