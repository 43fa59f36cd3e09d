package dev.vfio.operator.tasks;

import dev.vfio.api.v1alpha1.AfterSnapshot;
import dev.vfio.api.v1alpha1.Compression;
import dev.vfio.api.v1alpha1.DeviceMapping;
import dev.vfio.api.v1alpha1.Digest;
import dev.vfio.api.v1alpha1.PrecopySpec;
import dev.vfio.api.v1alpha1.TaskOperation;
import dev.vfio.api.v1alpha1.VfioMigrationSpec;
import dev.vfio.api.v1alpha1.VfioNodeTask;
import dev.vfio.api.v1alpha1.VfioNodeTaskSpec;
import dev.vfio.api.v1alpha1.VfioSnapshot;
import dev.vfio.api.v1alpha1.VfioSnapshotSpec;
import io.fabric8.kubernetes.api.model.Pod;
import java.time.Instant;
import java.util.List;

/**
 * Every task spec the operator writes, one method per kind of work. What a user left unset in a
 * snapshot or migration comes out here with the API's defaults, so that an agent never guesses.
 */
public final class TaskSpecs {
  /** Framing, and a device that reports less state than it sends, on top of a receiver's budget. */
  private static final long BUDGET_MARGIN = 256L << 20;

  private TaskSpecs() {}

  /** Where a snapshot's blobs live under their claim's root. */
  public static String blobDirectory(String namespace, String snapshot) {
    return namespace + "/" + snapshot;
  }

  /** Saves the state of {@code devices}, held by {@code pod}, as {@code snapshot} asks. */
  public static VfioNodeTaskSpec snapshotSave(
      VfioSnapshot snapshot, Pod pod, List<String> devices, String claim, Instant deadline) {
    VfioSnapshotSpec asked = snapshot.getSpec();
    VfioNodeTaskSpec spec = onPod(TaskOperation.Save, pod, devices, deadline);
    spec.setStorageClaim(claim);
    spec.setBlobDirectory(
        blobDirectory(snapshot.getMetadata().getNamespace(), snapshot.getMetadata().getName()));
    spec.setBlobSetUid(snapshot.getMetadata().getUid());
    spec.setQuiesce(asked.quiesceOrDefault());
    spec.setAfterSave(asked.afterSnapshotOrDefault());
    spec.setCompression(asked.compressionOrDefault());
    spec.setDigest(asked.digestOrDefault());
    spec.setPrecopy(asked.getPrecopy());
    spec.setHooks(asked.getHooks());
    return spec;
  }

  /**
   * Deletes the blob directory {@code directory} of {@code claim}, on a node that mounts the claim.
   */
  public static VfioNodeTaskSpec deleteBlobs(String node, String claim, String directory) {
    VfioNodeTaskSpec spec = new VfioNodeTaskSpec();
    spec.setOperation(TaskOperation.DeleteBlobs);
    spec.setNodeName(node);
    spec.setStorageClaim(claim);
    spec.setBlobDirectory(directory);
    return spec;
  }

  /**
   * Loads a snapshot's blobs into the target's devices, each source blob into its paired device;
   * {@code snapshotUid} is the snapshot's, which the blobs' tags bind.
   */
  public static VfioNodeTaskSpec restoreLoad(
      Pod target,
      List<DeviceMapping> pairs,
      String claim,
      String directory,
      String snapshotUid,
      Instant deadline) {
    VfioNodeTaskSpec spec = intoTarget(TaskOperation.Load, target, pairs, deadline);
    spec.setStorageClaim(claim);
    spec.setBlobDirectory(directory);
    spec.setBlobSetUid(snapshotUid);
    return spec;
  }

  /**
   * Listens for the streams of the source on {@code sourceNode}, whose agent alone it accepts, and
   * loads them into the target's devices. The receiver accepts at most what every PRE_COPY round
   * resending the whole state and STOP_COPY sending it once more could carry; with the state size
   * unknown, the agent's own limit applies.
   */
  public static VfioNodeTaskSpec receive(
      VfioMigrationSpec migration,
      String sourceNode,
      Pod target,
      List<DeviceMapping> pairs,
      long expectedBytes,
      String token,
      Instant deadline) {
    VfioNodeTaskSpec spec = intoTarget(TaskOperation.Receive, target, pairs, deadline);
    spec.setToken(token);
    spec.setPeerNode(sourceNode);
    if (expectedBytes > 0) {
      spec.setByteBudget(
          expectedBytes * (PrecopySpec.maxRounds(migration.getPrecopy()) + 2L) + BUDGET_MARGIN);
    }
    return spec;
  }

  /**
   * Streams the source's devices to where {@code receive} listens, with its token and deadline.
   * {@code sourceUid} may be null when the source pod is gone, which the agent then reports.
   */
  public static VfioNodeTaskSpec send(
      VfioMigrationSpec migration, VfioNodeTask receive, String sourceNode, String sourceUid) {
    VfioNodeTaskSpec spec = new VfioNodeTaskSpec();
    spec.setOperation(TaskOperation.Send);
    spec.setNodeName(sourceNode);
    spec.setPodName(migration.getSource().getPodName());
    spec.setPodUid(sourceUid);
    spec.setDevices(
        receive.getSpec().getDeviceMap().stream().map(DeviceMapping::getSource).toList());
    spec.setDeviceMap(receive.getSpec().getDeviceMap());
    spec.setToken(receive.getSpec().getToken());
    spec.setEndpoint(receive.getStatus().getEndpoint());
    spec.setPeerNode(receive.getSpec().getNodeName());
    spec.setPrecopy(migration.getPrecopy());
    spec.setQuiesce(migration.quiesceOrDefault());
    spec.setDeadline(receive.getSpec().getDeadline());
    return spec;
  }

  /**
   * Saves the source's devices for a migration through storage. The source stays stopped once
   * saved: it must not run on while its state starts elsewhere. The blobs live only until the Load
   * has run, which checks their chunk CRCs and tags: no compression, no digest. Their tags bind
   * {@code migrationUid}, as a snapshot's bind the snapshot's UID.
   */
  public static VfioNodeTaskSpec storageSave(
      VfioMigrationSpec migration,
      Pod source,
      List<DeviceMapping> pairs,
      String claim,
      String directory,
      String migrationUid,
      Instant deadline) {
    VfioNodeTaskSpec spec =
        onPod(
            TaskOperation.Save,
            source,
            pairs.stream().map(DeviceMapping::getSource).toList(),
            deadline);
    spec.setDeviceMap(pairs);
    spec.setStorageClaim(claim);
    spec.setBlobDirectory(directory);
    spec.setBlobSetUid(migrationUid);
    spec.setQuiesce(migration.quiesceOrDefault());
    spec.setAfterSave(AfterSnapshot.KeepStopped);
    spec.setCompression(Compression.None);
    spec.setDigest(Digest.None);
    spec.setPrecopy(migration.getPrecopy());
    return spec;
  }

  /**
   * Loads what {@code save} wrote into the target pod {@code targetPod} (UID {@code targetUid}) on
   * {@code targetNode}.
   */
  public static VfioNodeTaskSpec storageLoad(
      VfioNodeTask save, String targetNode, String targetPod, String targetUid) {
    VfioNodeTaskSpec spec = new VfioNodeTaskSpec();
    spec.setOperation(TaskOperation.Load);
    spec.setNodeName(targetNode);
    spec.setPodName(targetPod);
    spec.setPodUid(targetUid);
    spec.setDevices(save.getSpec().getDeviceMap().stream().map(DeviceMapping::getTarget).toList());
    spec.setDeviceMap(save.getSpec().getDeviceMap());
    spec.setStorageClaim(save.getSpec().getStorageClaim());
    spec.setBlobDirectory(save.getSpec().getBlobDirectory());
    spec.setBlobSetUid(save.getSpec().getBlobSetUid());
    spec.setDeadline(save.getSpec().getDeadline());
    return spec;
  }

  /** Runs again the devices {@code save} left stopped. */
  public static VfioNodeTaskSpec resume(VfioNodeTask save) {
    VfioNodeTaskSpec spec = new VfioNodeTaskSpec();
    spec.setOperation(TaskOperation.Resume);
    spec.setNodeName(save.getSpec().getNodeName());
    spec.setPodName(save.getSpec().getPodName());
    spec.setPodUid(save.getSpec().getPodUid());
    spec.setDevices(save.getSpec().getDevices());
    return spec;
  }

  private static VfioNodeTaskSpec intoTarget(
      TaskOperation operation, Pod target, List<DeviceMapping> pairs, Instant deadline) {
    VfioNodeTaskSpec spec =
        onPod(operation, target, pairs.stream().map(DeviceMapping::getTarget).toList(), deadline);
    spec.setDeviceMap(pairs);
    return spec;
  }

  private static VfioNodeTaskSpec onPod(
      TaskOperation operation, Pod pod, List<String> devices, Instant deadline) {
    VfioNodeTaskSpec spec = new VfioNodeTaskSpec();
    spec.setOperation(operation);
    spec.setNodeName(pod.getSpec().getNodeName());
    spec.setPodName(pod.getMetadata().getName());
    spec.setPodUid(pod.getMetadata().getUid());
    spec.setDevices(devices);
    spec.setDeadline(deadline.toString());
    return spec;
  }
}
