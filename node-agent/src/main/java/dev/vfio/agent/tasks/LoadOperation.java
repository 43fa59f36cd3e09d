package dev.vfio.agent.tasks;

import dev.vfio.agent.blobs.BlobIntegrityException;
import dev.vfio.agent.blobs.BlobReader;
import dev.vfio.agent.blobs.BlobStore;
import dev.vfio.agent.blobs.IncompatibleDeviceException;
import dev.vfio.agent.journal.DeviceJournal;
import dev.vfio.agent.journal.JournalEntry;
import dev.vfio.agent.pods.PodRef;
import dev.vfio.api.v1alpha1.DeviceMapping;
import dev.vfio.api.v1alpha1.DeviceResult;
import dev.vfio.api.v1alpha1.Reasons;
import dev.vfio.api.v1alpha1.Stage;
import dev.vfio.api.v1alpha1.VfioNodeTask;
import dev.vfio.api.v1alpha1.VfioNodeTaskSpec;
import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import java.util.stream.Collectors;

/**
 * {@code Load}: restores blobs into the target pod's devices. Every blob is verified whole — each
 * CRC, the SHA-256, and that it was saved from a compatible device — before the first byte goes
 * to any device; a blob that fails never reaches one.
 */
public final class LoadOperation implements NodeOperation {
  private final PodDevices podDevices;
  private final BlobStore blobs;
  private final DeviceJournal journal;

  public LoadOperation(PodDevices podDevices, BlobStore blobs, DeviceJournal journal) {
    this.podDevices = podDevices;
    this.blobs = blobs;
    this.journal = journal;
  }

  @Override
  public void run(TaskContext context) throws TaskFailure {
    VfioNodeTask task = context.task();
    VfioNodeTaskSpec spec = task.getSpec();
    BlobDirectory directory = BlobDirectory.parse(spec.getBlobDirectory());
    PodRef pod = podDevices.currentPod(task, Reasons.TARGET_POD_CHANGED);
    Map<String, String> sourceOf = spec.getDeviceMap().stream()
        .collect(Collectors.toMap(DeviceMapping::getTarget, DeviceMapping::getSource));
    List<DeviceLoad> loads = podDevices.open(pod, spec.getDevices(), (inventory, device, machine) ->
        new DeviceLoad(inventory, device, machine, context));
    List<BlobReader> readers = new ArrayList<>();
    try {
      context.stage(Stage.Preparing);
      long total = 0;
      for (DeviceLoad load : loads) {
        BlobReader reader = verifiedBlob(spec, directory, sourceOf.get(load.address()), load);
        readers.add(reader);
        total += reader.verify().stateBytes();
      }
      context.totalBytes(total);
      journal.record(new JournalEntry(task.getMetadata().getNamespace(), task.getMetadata().getName(),
          task.getMetadata().getUid(), pod.namespace(), pod.name(), pod.uid(), spec.getDevices(), false, null, null));
      context.stage(Stage.Loading);
      for (int i = 0; i < loads.size(); i++) {
        DeviceLoad load = loads.get(i);
        load.begin();
        readers.get(i).copyTo(load::accept);
      }
      context.stage(Stage.Resuming);
      for (DeviceLoad load : loads) {
        load.finish();
      }
      context.resumedAt(context.clock().instant());
      journal.remove(task.getMetadata().getUid());
      podDevices.markRestore(pod, "Succeeded");
      context.succeed(loads.stream().map(DeviceLoad::result).toList(), null);
    } catch (TaskFailure failure) {
      throw DeviceLoad.rollBackAll(loads, journal, task.getMetadata().getUid(), podDevices, pod, failure);
    } catch (IOException e) {
      throw DeviceLoad.rollBackAll(loads, journal, task.getMetadata().getUid(), podDevices, pod, SaveOperation.classify(e));
    } finally {
      PodDevices.closeAll(readers);
      PodDevices.closeAll(loads);
    }
  }

  private BlobReader verifiedBlob(VfioNodeTaskSpec spec, BlobDirectory directory, String source, DeviceLoad load)
      throws TaskFailure, IOException {
    BlobReader reader;
    try {
      reader = BlobReader.open(blobs.blobPath(spec.getStorageClaim(), directory.namespace(), directory.snapshot(), source));
    } catch (NoSuchFileException e) {
      throw new TaskFailure(Reasons.BLOB_CORRUPT, "the blob of device " + source + " is missing from "
          + spec.getStorageClaim() + "/" + spec.getBlobDirectory() + "; no device was touched");
    }
    try {
      reader.verify();
      reader.requireCompatibleWith(load.inventory().identity());
      return reader;
    } catch (BlobIntegrityException e) {
      reader.close();
      throw new TaskFailure(Reasons.BLOB_CORRUPT, "the blob of device " + source + " failed its integrity check: "
          + e.getMessage() + "; no device was touched", e);
    } catch (IncompatibleDeviceException e) {
      reader.close();
      throw new TaskFailure(Reasons.INCOMPATIBLE_DEVICES, e.getMessage() + "; no device was touched", e);
    }
  }
}
