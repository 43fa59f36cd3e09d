package dev.vfio.agent.tasks;

import dev.vfio.agent.NodeBackend;
import dev.vfio.agent.blobs.BlobCompression;
import dev.vfio.agent.blobs.BlobHeader;
import dev.vfio.agent.blobs.BlobStore;
import dev.vfio.agent.blobs.BlobWriter;
import dev.vfio.agent.journal.DeviceJournal;
import dev.vfio.agent.journal.JournalEntry;
import dev.vfio.agent.pods.PodRef;
import dev.vfio.agent.vfio.VfioException;
import dev.vfio.api.v1alpha1.AfterSnapshot;
import dev.vfio.api.v1alpha1.Compression;
import dev.vfio.api.v1alpha1.DeviceResult;
import dev.vfio.api.v1alpha1.QuiesceMode;
import dev.vfio.api.v1alpha1.Reasons;
import dev.vfio.api.v1alpha1.Stage;
import dev.vfio.api.v1alpha1.VfioNodeTask;
import dev.vfio.api.v1alpha1.VfioNodeTaskSpec;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code Save}: the device state of a pod's devices into verified blobs, the devices running again
 * afterwards. Before the first device leaves RUNNING the task is journaled; on every failure the
 * temporary blobs are removed, the devices recovered to RUNNING and the pod thawed.
 */
public final class SaveOperation implements NodeOperation {
  private static final Logger LOG = LoggerFactory.getLogger(SaveOperation.class);
  private final PodDevices podDevices;
  private final NodeBackend backend;
  private final BlobStore blobs;
  private final DeviceJournal journal;
  private final String nodeName;
  private final String kernelRelease;

  public SaveOperation(PodDevices podDevices, NodeBackend backend, BlobStore blobs,
      DeviceJournal journal, String nodeName, String kernelRelease) {
    this.podDevices = podDevices;
    this.backend = backend;
    this.blobs = blobs;
    this.journal = journal;
    this.nodeName = nodeName;
    this.kernelRelease = kernelRelease;
  }

  @Override
  public void run(TaskContext context) throws TaskFailure, InterruptedException {
    VfioNodeTask task = context.task();
    VfioNodeTaskSpec spec = task.getSpec();
    BlobDirectory directory = BlobDirectory.parse(spec.getBlobDirectory());
    PodRef pod = podDevices.currentPod(task, Reasons.POD_CHANGED);
    List<DeviceSave> saves = open(context, pod, directory);
    JournalEntry entry = new JournalEntry(task.getMetadata().getNamespace(), task.getMetadata().getName(),
        task.getMetadata().getUid(), pod.namespace(), pod.name(), pod.uid(), spec.getDevices(), false,
        spec.getStorageClaim(), spec.getBlobDirectory());
    boolean frozen = false;
    Instant stopped = null;
    ExecutorService lanes = Executors.newFixedThreadPool(Math.max(1, saves.size()), r -> {
      Thread thread = new Thread(r, "save-" + task.getMetadata().getName());
      thread.setDaemon(true);
      return thread;
    });
    try {
      journal.record(entry);
      context.totalBytes(estimate(saves));
      List<DeviceSave> precopying = saves.stream().filter(s -> s.usesPrecopy(spec.getPrecopy())).toList();
      if (!precopying.isEmpty()) {
        context.stage(Stage.Precopy);
        inParallel(lanes, precopying, save -> {
          save.precopy(spec.getPrecopy());
          return null;
        });
      }
      if (spec.getQuiesce() != QuiesceMode.None) {
        context.stage(Stage.Quiescing);
        journal.record(entry = entry.withFrozen(true));
        backend.quiescer().freeze(pod);
        frozen = true;
      }
      stopped = context.clock().instant();
      context.stage(Stage.StopCopy);
      inParallel(lanes, saves, save -> {
        save.stopCopy();
        return null;
      });
      boolean resume = spec.getAfterSave() != AfterSnapshot.KeepStopped;
      context.stage(resume ? Stage.Resuming : Stage.Done);
      for (DeviceSave save : saves) {
        save.finish(resume);
      }
      if (resume && frozen) {
        backend.quiescer().thaw(pod);
      }
      long downtime = resume ? context.clock().instant().toEpochMilli() - stopped.toEpochMilli() : 0;
      journal.remove(task.getMetadata().getUid());
      List<DeviceResult> results = new ArrayList<>();
      for (DeviceSave save : saves) {
        results.add(save.result(spec.getBlobDirectory() + "/" + save.address() + ".vfs"));
      }
      context.succeed(results, resume ? downtime : null);
    } catch (TaskFailure failure) {
      throw rollBack(saves, pod, frozen, task, failure);
    } catch (IOException e) {
      throw rollBack(saves, pod, frozen, task, classify(e));
    } catch (RuntimeException e) {
      throw rollBack(saves, pod, frozen, task,
          new TaskFailure(Reasons.DEVICE_ERROR, "the save failed unexpectedly: " + e, e));
    } finally {
      lanes.shutdownNow();
      saves.forEach(DeviceSave::close);
    }
  }

  private List<DeviceSave> open(TaskContext context, PodRef pod, BlobDirectory directory) throws TaskFailure {
    VfioNodeTaskSpec spec = context.task().getSpec();
    return podDevices.open(pod, spec.getDevices(), (inventory, device, machine) -> {
      Path target = blobs.blobPath(spec.getStorageClaim(), directory.namespace(), directory.snapshot(), device.address());
      BlobWriter writer = BlobWriter.create(target, new BlobHeader(BlobHeader.FORMAT_VERSION,
          inventory.identity(), machine.flags().names(), kernelRelease, nodeName, pod.namespace(),
          pod.name(), directory.snapshot(), context.clock().instant().toString(),
          spec.getCompression() == Compression.Zstd ? BlobCompression.ZSTD : BlobCompression.NONE));
      return new DeviceSave(inventory, device, machine, writer, context);
    });
  }

  private static long estimate(List<DeviceSave> saves) {
    return saves.stream().mapToLong(DeviceSave::estimatedBytes).sum();
  }

  private interface DeviceStep {
    Void run(DeviceSave save) throws IOException, TaskFailure;
  }

  /** Runs one step on every device at once (the devices of a pod are independent) and waits for all. */
  private static void inParallel(ExecutorService lanes, List<DeviceSave> saves, DeviceStep step)
      throws IOException, TaskFailure, InterruptedException {
    List<Future<Void>> running = new ArrayList<>();
    for (DeviceSave save : saves) {
      running.add(lanes.submit(() -> step.run(save)));
    }
    Exception first = null;
    for (Future<Void> future : running) {
      try {
        future.get();
      } catch (ExecutionException e) {
        if (first == null) {
          first = (Exception) e.getCause();
        }
      }
    }
    if (first instanceof TaskFailure failure) {
      throw failure;
    }
    if (first instanceof IOException io) {
      throw io;
    }
    if (first != null) {
      throw (RuntimeException) first;
    }
  }

  private TaskFailure rollBack(List<DeviceSave> saves, PodRef pod, boolean frozen, VfioNodeTask task, TaskFailure cause) {
    List<String> done = new ArrayList<>();
    for (DeviceSave save : saves) {
      done.add(save.rollBack());
    }
    if (frozen) {
      try {
        backend.quiescer().thaw(pod);
      } catch (IOException e) {
        done.add("could not thaw pod " + pod + ": " + e.getMessage());
      }
    }
    try {
      journal.remove(task.getMetadata().getUid());
    } catch (IOException e) {
      // The entry stays: the next agent start replays it, which is harmless on RUNNING devices.
      LOG.warn("could not remove journal entry of {}: {}", task.getMetadata().getName(), e.getMessage());
    }
    LOG.info("rolled back: {}", done);
    return new TaskFailure(cause.reason(), cause.getMessage() + "; rolled back: " + String.join("; ", done), cause);
  }

  static TaskFailure classify(IOException e) {
    if (e instanceof TaskStoppedException stopped) {
      return stopped.failure();
    }
    if (e instanceof VfioException vfio) {
      return new TaskFailure(Reasons.DEVICE_ERROR, vfio.getMessage(), e);
    }
    String message = String.valueOf(e.getMessage());
    if (message.contains("No space left")) {
      return new TaskFailure(Reasons.STORAGE_FULL, "the storage claim is full: " + message
          + ": free space on the claim or use a larger one", e);
    }
    return new TaskFailure(Reasons.STORAGE_ERROR, "writing the blob failed: " + message, e);
  }
}
