package dev.vfio.operator.preflight;

import dev.vfio.api.v1alpha1.MigrationPhase;
import dev.vfio.api.v1alpha1.SnapshotPhase;
import dev.vfio.api.v1alpha1.VfioMigration;
import dev.vfio.api.v1alpha1.VfioNodeTask;
import dev.vfio.api.v1alpha1.VfioSnapshot;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The operations of a namespace that the API server shows in flight, and the pods each one holds:
 * what {@link PodOperations} remembers, as it stood before this operator started. Read with a
 * request, not from a watch, because the first reconciliations after a restart may come before the
 * other kind's watch has listed anything.
 *
 * <p>An operation is in flight from the moment it started until it ended: it shows a Running phase
 * or a task it made (a task is created before the status that names it is written, so an operator
 * that died between the two left only the task), and it is neither Ready, Succeeded nor Failed.
 */
public final class OperationsInFlight implements PodOperations.Record {
  private final KubernetesClient client;

  public OperationsInFlight(KubernetesClient client) {
    this.client = client;
  }

  @Override
  public List<PodOperations.Hold> holds(String namespace) {
    Set<String> withTasks =
        client.resources(VfioNodeTask.class).inNamespace(namespace).list().getItems().stream()
            .map(task -> task.getMetadata().getLabels())
            .filter(Objects::nonNull)
            .map(labels -> labels.get(VfioNodeTask.PARENT_UID_LABEL))
            .filter(Objects::nonNull)
            .collect(Collectors.toSet());
    List<PodOperations.Hold> holds = new ArrayList<>();
    for (VfioSnapshot snapshot :
        client.resources(VfioSnapshot.class).inNamespace(namespace).list().getItems()) {
      SnapshotPhase phase = snapshot.getStatus() == null ? null : snapshot.getStatus().getPhase();
      boolean ended = phase == SnapshotPhase.Ready || phase == SnapshotPhase.Failed;
      boolean started =
          phase == SnapshotPhase.Running
              || snapshot.getStatus() != null && snapshot.getStatus().getTaskName() != null
              || withTasks.contains(snapshot.getMetadata().getUid());
      if (started && !ended) {
        holds.add(
            new PodOperations.Hold(PodOperations.owner(snapshot), PodOperations.pods(snapshot)));
      }
    }
    for (VfioMigration migration :
        client.resources(VfioMigration.class).inNamespace(namespace).list().getItems()) {
      MigrationPhase phase =
          migration.getStatus() == null ? null : migration.getStatus().getPhase();
      boolean ended = phase == MigrationPhase.Succeeded || phase == MigrationPhase.Failed;
      boolean started =
          phase == MigrationPhase.Running || withTasks.contains(migration.getMetadata().getUid());
      if (started && !ended) {
        holds.add(
            new PodOperations.Hold(PodOperations.owner(migration), PodOperations.pods(migration)));
      }
    }
    return holds;
  }
}
