package dev.vfio.operator.migration;

import dev.vfio.api.v1alpha1.PodAnnotations;
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
 * Tells a target workload, through its pod's {@link PodAnnotations#RESTORE_STATUS} annotation,
 * whether the migration brought it its state ({@code Succeeded}) or none ({@code Failed}). The
 * operator is the only writer: agents have no pod write at all (docs/security.md). Only a pod that
 * opted in as a restore target is marked, and never the source: a running workload must not read
 * that its own state failed to arrive.
 */
final class RestoreStatusMarker {
  private static final Logger LOG = LoggerFactory.getLogger(RestoreStatusMarker.class);

  private final KubernetesClient client;

  RestoreStatusMarker(KubernetesClient client) {
    this.client = client;
  }

  void mark(VfioMigration migration, String outcome) {
    if (!namesAnotherTarget(migration.getSpec())) {
      return;
    }
    try {
      Pod target =
          client
              .pods()
              .inNamespace(migration.getMetadata().getNamespace())
              .withName(migration.getSpec().getTargetPodName())
              .get();
      if (target == null || !MigrationPreflight.optedIn(target)) {
        return;
      }
      // The UID makes the patch conditional: a pod recreated under the name since the read has
      // another, which metadata.uid cannot change to, and the API server refuses the patch.
      client
          .resource(target)
          .patch(
              PatchContext.of(PatchType.JSON_MERGE),
              Serialization.asJson(
                  Map.of(
                      "metadata",
                      Map.of(
                          "uid",
                          target.getMetadata().getUid(),
                          "annotations",
                          Map.of(PodAnnotations.RESTORE_STATUS, outcome)))));
    } catch (KubernetesClientException e) {
      // The target pod may be gone, which is itself a reason the migration failed.
      LOG.debug("could not mark the target pod: {}", e.getMessage());
    }
  }

  /** Whether the spec names a target pod that is not also its source. */
  static boolean namesAnotherTarget(VfioMigrationSpec spec) {
    return spec != null
        && spec.getTargetPodName() != null
        && (spec.getSource() == null
            || !spec.getTargetPodName().equals(spec.getSource().getPodName()));
  }
}
