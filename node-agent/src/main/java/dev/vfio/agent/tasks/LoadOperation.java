package dev.vfio.agent.tasks;

import dev.vfio.agent.blobs.BlobIdentity;
import dev.vfio.agent.blobs.BlobIntegrityException;
import dev.vfio.agent.blobs.BlobKeySource;
import dev.vfio.agent.blobs.BlobReader;
import dev.vfio.agent.blobs.BlobStore;
import dev.vfio.agent.blobs.BlobUnauthenticatedException;
import dev.vfio.agent.blobs.IncompatibleDeviceException;
import dev.vfio.agent.journal.DeviceJournal;
import dev.vfio.api.v1alpha1.Reason;
import dev.vfio.api.v1alpha1.Stage;
import dev.vfio.api.v1alpha1.VfioNodeTaskSpec;
import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * {@code Load}: restores blobs into the target pod's devices. Every blob is verified whole — its
 * seal (each chunk's tag under the operator's blob key, for this snapshot and this source device),
 * each CRC, the SHA-256 if it has one, and that it was saved from a compatible device — before the
 * first byte goes to any device; a blob that fails never reaches one. A blob without a seal is
 * refused unless the agent was told to accept them ({@code VFIO_ACCEPT_UNAUTHENTICATED_BLOBS}).
 */
public final class LoadOperation implements NodeOperation {
  private final PodDevices podDevices;
  private final BlobStore blobs;
  private final BlobKeySource keys;
  private final boolean acceptUnauthenticated;
  private final DeviceJournal journal;

  /**
   * @param acceptUnauthenticated whether a blob without a seal (format 1 or 2, or written by {@code
   *     vfioctl save}) is loaded on its CRCs alone; a sealed blob is always checked
   */
  public LoadOperation(
      PodDevices podDevices,
      BlobStore blobs,
      BlobKeySource keys,
      boolean acceptUnauthenticated,
      DeviceJournal journal) {
    this.podDevices = podDevices;
    this.blobs = blobs;
    this.keys = keys;
    this.acceptUnauthenticated = acceptUnauthenticated;
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
    String setUid = BlobSets.uid(spec);
    BlobReader reader;
    try {
      reader =
          BlobReader.open(
              blobs.blobPath(
                  spec.getStorageClaim(), directory.namespace(), directory.snapshot(), source));
    } catch (NoSuchFileException e) {
      throw new TaskFailure(
          Reason.BLOB_CORRUPT,
          "the blob of device "
              + source
              + " is missing from "
              + spec.getStorageClaim()
              + "/"
              + spec.getBlobDirectory()
              + "; no device was touched");
    }
    try {
      if (reader.sealed() || !acceptUnauthenticated) {
        reader.authenticate(BlobSets.keys(keys), new BlobIdentity(setUid, source));
      }
      long stateBytes = reader.verify().stateBytes();
      reader.requireCompatibleWith(target.inventory().identity());
      return new VerifiedBlob(reader, stateBytes, target);
    } catch (TaskFailure e) {
      reader.close();
      throw e;
    } catch (BlobUnauthenticatedException e) {
      reader.close();
      throw new TaskFailure(
          Reason.BLOB_UNAUTHENTICATED,
          "the blob of device "
              + source
              + " is not proven to be the operator's: "
              + e.getMessage()
              + "; no device was touched",
          e);
    } catch (BlobIntegrityException e) {
      reader.close();
      throw new TaskFailure(
          Reason.BLOB_CORRUPT,
          "the blob of device "
              + source
              + " failed its integrity check: "
              + e.getMessage()
              + "; no device was touched",
          e);
    } catch (IncompatibleDeviceException e) {
      reader.close();
      throw new TaskFailure(
          Reason.INCOMPATIBLE_DEVICES, e.getMessage() + "; no device was touched", e);
    }
  }
}
