package dev.vfio.agent.tasks;

import dev.vfio.agent.NodeBackend;
import dev.vfio.agent.blobs.BlobCompression;
import dev.vfio.agent.blobs.BlobDigest;
import dev.vfio.agent.blobs.BlobHeader;
import dev.vfio.agent.blobs.BlobKey;
import dev.vfio.agent.blobs.BlobKeySource;
import dev.vfio.agent.blobs.BlobStore;
import dev.vfio.agent.journal.DeviceJournal;
import dev.vfio.agent.journal.JournalEntry;
import dev.vfio.agent.pods.PodRef;
import dev.vfio.agent.vfio.MigrationState;
import dev.vfio.api.v1alpha1.AfterSnapshot;
import dev.vfio.api.v1alpha1.Compression;
import dev.vfio.api.v1alpha1.DeviceResult;
import dev.vfio.api.v1alpha1.Digest;
import dev.vfio.api.v1alpha1.Reason;
import dev.vfio.api.v1alpha1.Stage;
import dev.vfio.api.v1alpha1.TaskOperation;
import dev.vfio.api.v1alpha1.VfioNodeTask;
import dev.vfio.api.v1alpha1.VfioNodeTaskSpec;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code Save}: the device state of a pod's devices into verified blobs, each sealed with the
 * operator's blob key for its snapshot and device, the devices running again afterwards. Before the
 * first device leaves RUNNING the task is journaled; on every failure the temporary blobs are
 * removed, the devices recovered to RUNNING and the pod thawed.
 */
public final class SaveOperation implements NodeOperation {
  private final PodDevices podDevices;
  private final NodeBackend backend;
  private final BlobStore blobs;
  private final BlobKeySource keys;
  private final DeviceJournal journal;
  private final String nodeName;
  private final String kernelRelease;

  public SaveOperation(
      PodDevices podDevices,
      NodeBackend backend,
      BlobStore blobs,
      BlobKeySource keys,
      DeviceJournal journal,
      String nodeName,
      String kernelRelease) {
    this.podDevices = podDevices;
    this.backend = backend;
    this.blobs = blobs;
    this.keys = keys;
    this.journal = journal;
    this.nodeName = nodeName;
    this.kernelRelease = kernelRelease;
  }

  @Override
  public void run(TaskContext context) throws TaskFailure, InterruptedException {
    VfioNodeTask task = context.task();
    VfioNodeTaskSpec spec = task.getSpec();
    BlobDirectory directory = BlobDirectory.of(task);
    String setUid = BlobSets.uid(spec);
    // New blobs are sealed with the current key only; previous keys of the ring only open.
    BlobKey key = BlobSets.keys(keys).current();
    PodRef pod = podDevices.currentPod(task, Reason.POD_CHANGED);
    List<DeviceSave> saves = open(context, pod, directory, key, setUid);
    refuseStopped(saves);
    JournalEntry entry =
        new JournalEntry(
            task.getMetadata().getNamespace(),
            task.getMetadata().getName(),
            task.getMetadata().getUid(),
            pod.namespace(),
            pod.name(),
            pod.uid(),
            spec.getDevices(),
            false,
            spec.getStorageClaim(),
            spec.getBlobDirectory(),
            TaskOperation.Save);
    try (StateCapture capture =
        new StateCapture(
            backend.quiescer(), journal, context, pod, saves, entry, FailureClassifier.SAVE)) {
      try {
        Instant stopped = capture.capture(spec.getPrecopy(), spec.getQuiesce());
        boolean resume = spec.getAfterSave() != AfterSnapshot.KeepStopped;
        context.stage(resume ? Stage.Resuming : Stage.Done);
        capture.finish(resume);
        if (resume) {
          capture.thaw();
        }
        long downtime = context.clock().instant().toEpochMilli() - stopped.toEpochMilli();
        capture.forget();
        List<DeviceResult> results = new ArrayList<>();
        for (DeviceSave save : saves) {
          results.add(save.result(spec.getBlobDirectory() + "/" + save.address() + ".vfs"));
        }
        context.succeed(results, resume ? downtime : null);
      } catch (TaskFailure | IOException | RuntimeException e) {
        throw capture.rollBack(e);
      }
    }
  }

  /**
   * A device not RUNNING is refused before anything is journaled or frozen: saving it would end
   * with it RUNNING, and a device a migration left stopped runs its state elsewhere already.
   */
  private static void refuseStopped(List<DeviceSave> saves) throws TaskFailure {
    for (DeviceSave save : saves) {
      MigrationState state;
      try {
        state = save.state();
      } catch (IOException e) {
        continue; // The save itself reports the device error, with its rollback.
      }
      if (state != MigrationState.RUNNING) {
        saves.forEach(DeviceSave::discard);
        throw new TaskFailure(
            Reason.SOURCE_STOPPED,
            "device "
                + save.address()
                + " is "
                + state
                + ", not RUNNING: its pod was left stopped, as the source of a migration leaves it; nothing was touched");
      }
    }
  }

  private List<DeviceSave> open(
      TaskContext context, PodRef pod, BlobDirectory directory, BlobKey key, String setUid)
      throws TaskFailure {
    VfioNodeTaskSpec spec = context.task().getSpec();
    return podDevices.open(
        pod,
        spec.getDevices(),
        FailureClassifier.SAVE,
        (inventory, device, machine) -> {
          BlobHeader header =
              new BlobHeader(
                      BlobHeader.FORMAT_VERSION,
                      inventory.identity(),
                      machine.flags().names(),
                      kernelRelease,
                      nodeName,
                      pod.namespace(),
                      pod.name(),
                      directory.snapshot(),
                      context.clock().instant().toString(),
                      spec.getCompression() == Compression.Zstd
                          ? BlobCompression.ZSTD
                          : BlobCompression.NONE)
                  .withDigest(
                      spec.getDigest() == Digest.SHA256
                          ? BlobDigest.SHA256_CHUNKS
                          : BlobDigest.NONE);
          return new DeviceSave(
              inventory,
              device,
              machine,
              blobs.createSealedBlob(
                  spec.getStorageClaim(),
                  directory.namespace(),
                  directory.snapshot(),
                  device.address(),
                  header,
                  key,
                  setUid),
              context);
        });
  }
}
