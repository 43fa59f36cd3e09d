package dev.vfio.agent.tasks;

import dev.vfio.agent.blobs.BlobIntegrityException;
import dev.vfio.agent.blobs.BlobReader;
import dev.vfio.agent.blobs.BlobStore;
import dev.vfio.agent.blobs.IncompatibleDeviceException;
import dev.vfio.agent.journal.DeviceJournal;
import dev.vfio.api.v1alpha1.Reasons;
import dev.vfio.api.v1alpha1.Stage;
import dev.vfio.api.v1alpha1.VfioNodeTaskSpec;
import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * {@code Load}: restores blobs into the target pod's devices. Every blob is verified whole — each
 * CRC, the SHA-256, and that it was saved from a compatible device — before the first byte goes to
 * any device; a blob that fails never reaches one.
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

  /** A blob that passed every check, and the device it goes into. */
  private record VerifiedBlob(BlobReader reader, long stateBytes, DeviceLoad target) {}

  @Override
  public void run(TaskContext context) throws TaskFailure {
    VfioNodeTaskSpec spec = context.task().getSpec();
    BlobDirectory directory = BlobDirectory.of(context.task());
    try (StateRestore restore =
        StateRestore.open(podDevices, journal, context, FailureClassifier.LOAD)) {
      List<VerifiedBlob> verified = new ArrayList<>();
      try {
        context.stage(Stage.Preparing);
        for (Map.Entry<String, DeviceLoad> target : restore.bySource().entrySet()) {
          verified.add(verifiedBlob(spec, directory, target.getKey(), target.getValue()));
        }
        context.totalBytes(verified.stream().mapToLong(VerifiedBlob::stateBytes).sum());
        restore.begin();
        context.stage(Stage.Loading);
        for (VerifiedBlob blob : verified) {
          blob.reader().copyTo(blob.target());
        }
        restore.resume();
        restore.forget();
      } catch (TaskFailure | IOException | RuntimeException e) {
        throw restore.rollBack(e);
      } finally {
        PodDevices.closeAll(verified.stream().map(VerifiedBlob::reader).toList());
      }
      restore.succeed();
    }
  }

  private VerifiedBlob verifiedBlob(
      VfioNodeTaskSpec spec, BlobDirectory directory, String source, DeviceLoad target)
      throws TaskFailure, IOException {
    BlobReader reader;
    try {
      reader =
          BlobReader.open(
              blobs.blobPath(
                  spec.getStorageClaim(), directory.namespace(), directory.snapshot(), source));
    } catch (NoSuchFileException e) {
      throw new TaskFailure(
          Reasons.BLOB_CORRUPT,
          "the blob of device "
              + source
              + " is missing from "
              + spec.getStorageClaim()
              + "/"
              + spec.getBlobDirectory()
              + "; no device was touched");
    }
    try {
      long stateBytes = reader.verify().stateBytes();
      reader.requireCompatibleWith(target.inventory().identity());
      return new VerifiedBlob(reader, stateBytes, target);
    } catch (BlobIntegrityException e) {
      reader.close();
      throw new TaskFailure(
          Reasons.BLOB_CORRUPT,
          "the blob of device "
              + source
              + " failed its integrity check: "
              + e.getMessage()
              + "; no device was touched",
          e);
    } catch (IncompatibleDeviceException e) {
      reader.close();
      throw new TaskFailure(
          Reasons.INCOMPATIBLE_DEVICES, e.getMessage() + "; no device was touched", e);
    }
  }
}
