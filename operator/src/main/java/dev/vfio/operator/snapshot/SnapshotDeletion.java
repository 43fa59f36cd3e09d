package dev.vfio.operator.snapshot;

import dev.vfio.api.v1alpha1.DeletionPolicy;
import dev.vfio.api.v1alpha1.Reason;
import dev.vfio.api.v1alpha1.VfioNodeTask;
import dev.vfio.api.v1alpha1.VfioSnapshot;
import dev.vfio.api.v1alpha1.VfioSnapshotStatus;
import dev.vfio.operator.config.OperatorConfig;
import dev.vfio.operator.events.Notice;
import dev.vfio.operator.preflight.AgentNodes;
import dev.vfio.operator.preflight.NodeChecks;
import dev.vfio.operator.reconcile.Plan;
import dev.vfio.operator.tasks.LostNodes;
import dev.vfio.operator.tasks.NodeTasks;
import dev.vfio.operator.tasks.TaskAction;
import dev.vfio.operator.tasks.TaskSpecs;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What deleting a VfioSnapshot takes, one pass at a time: its save rolled back if still in flight,
 * its blobs deleted by an agent that mounts the claim (unless the policy retains them), then its
 * tasks. The reconciler carries out the plan; this class only reads.
 */
final class SnapshotDeletion {
  private final OperatorConfig config;
  private final NodeTasks tasks;
  private final LostNodes lostNodes;
  private final AgentNodes<VfioSnapshot> nodes;
  private final NodeChecks nodeChecks;

  SnapshotDeletion(
      OperatorConfig config,
      NodeTasks tasks,
      LostNodes lostNodes,
      AgentNodes<VfioSnapshot> nodes,
      NodeChecks nodeChecks) {
    this.config = config;
    this.tasks = tasks;
    this.lostNodes = lostNodes;
    this.nodes = nodes;
    this.nodeChecks = nodeChecks;
  }

  /**
   * Cancels a save in flight, deletes the blobs (a DeleteBlobs task run to its end), then the
   * tasks.
   */
  Plan<VfioSnapshotStatus> plan(VfioSnapshot snapshot, Instant now) {
    Optional<VfioNodeTask> save = tasks.find(snapshot, VfioSnapshotReconciler.SAVE);
    // A save on a lost node is not waited for: its agent may never answer.
    if (save.isPresent()
        && !NodeTasks.isTerminal(save.get())
        && !lostNodes.isLost(save.get(), now)) {
      return Plan.of(
              SnapshotStatuses.rollingBack(
                  snapshot,
                  Reason.DELETING,
                  "deleted while in flight; waiting for the agent to roll the devices back",
                  now))
          .with(new TaskAction.Cancel(save.get()))
          .requeue(VfioSnapshotReconciler.CLEANUP_POLL);
    }
    Plan<VfioSnapshotStatus> done =
        Plan.<VfioSnapshotStatus>of(null)
            .with(new TaskAction.Delete(NodeTasks.name(snapshot, VfioSnapshotReconciler.SAVE)))
            .with(
                new TaskAction.Delete(
                    NodeTasks.name(snapshot, VfioSnapshotReconciler.DELETE_BLOBS)));
    boolean mayHaveBlobs =
        save.isPresent()
            || (snapshot.getStatus() != null && snapshot.getStatus().getTaskName() != null);
    if (!mayHaveBlobs || deletionPolicy(snapshot) == DeletionPolicy.Retain) {
      return done;
    }
    Optional<VfioNodeTask> deletion = tasks.find(snapshot, VfioSnapshotReconciler.DELETE_BLOBS);
    if (deletion.isEmpty()) {
      String node = nodeForBlobDeletion(snapshot, now);
      if (node == null) {
        return Plan.<VfioSnapshotStatus>waitFor(VfioSnapshotReconciler.POLL)
            .notice(
                Notice.warning(
                    Reason.AGENT_NOT_READY, "no ready agent to delete the blobs; waiting"));
      }
      String directory =
          TaskSpecs.blobDirectory(
              snapshot.getMetadata().getNamespace(), snapshot.getMetadata().getName());
      return Plan.<VfioSnapshotStatus>waitFor(VfioSnapshotReconciler.CLEANUP_POLL)
          .with(
              new TaskAction.Create(
                  VfioSnapshotReconciler.DELETE_BLOBS,
                  TaskSpecs.deleteBlobs(node, storageClaim(snapshot), directory),
                  false,
                  Map.of()));
    }
    VfioNodeTask task = deletion.get();
    Optional<LostNodes.Lost> lost = lostNodes.lost(List.of(task), now);
    if (lost.isPresent()) {
      return Plan.<VfioSnapshotStatus>waitFor(VfioSnapshotReconciler.POLL)
          .with(new TaskAction.Delete(task.getMetadata().getName()))
          .notice(
              Notice.warning(
                  lost.get().reason(),
                  lost.get().message() + "; deleting the blobs from another node"));
    }
    return switch (NodeTasks.phase(task)) {
      case Succeeded ->
          done.notice(
              Notice.normal(
                  "BlobsDeleted", "deleted the blobs of " + snapshot.getMetadata().getName()));
      // Retried on a fresh task: the blobs must not outlive their snapshot silently.
      case Failed, Cancelled ->
          Plan.<VfioSnapshotStatus>waitFor(VfioSnapshotReconciler.POLL)
              .with(new TaskAction.Delete(task.getMetadata().getName()))
              .notice(
                  Notice.warning(
                      Reason.STORAGE_ERROR,
                      "deleting the blobs failed: "
                          + task.getStatus().getMessage()
                          + "; retrying"));
      default -> Plan.waitFor(VfioSnapshotReconciler.CLEANUP_POLL);
    };
  }

  /**
   * The snapshot's own node if its agent is ready, otherwise any ready agent mounting the claim.
   */
  private String nodeForBlobDeletion(VfioSnapshot snapshot, Instant now) {
    String claim = storageClaim(snapshot);
    String preferred = snapshot.getStatus() == null ? null : snapshot.getStatus().getNodeName();
    List<String> candidates =
        nodes.list().stream()
            .filter(
                n ->
                    n.getStatus() != null
                        && nodeChecks.agent(n, n.getMetadata().getName(), now) == null)
            .filter(
                n ->
                    n.getStatus().getStorage() != null
                        && n.getStatus().getStorage().stream()
                            .anyMatch(s -> claim.equals(s.getName())))
            .map(n -> n.getMetadata().getName())
            .sorted()
            .toList();
    return candidates.contains(preferred)
        ? preferred
        : candidates.isEmpty() ? null : candidates.get(0);
  }

  private static DeletionPolicy deletionPolicy(VfioSnapshot snapshot) {
    return snapshot.getSpec() == null
        ? DeletionPolicy.Delete
        : snapshot.getSpec().deletionPolicyOrDefault();
  }

  private String storageClaim(VfioSnapshot snapshot) {
    String claim = snapshot.getSpec() == null ? null : snapshot.getSpec().getStorageClaim();
    return claim == null ? config.defaultStorageClaim() : claim;
  }
}
