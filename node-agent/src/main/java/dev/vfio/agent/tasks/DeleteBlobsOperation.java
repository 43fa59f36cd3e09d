package dev.vfio.agent.tasks;

import dev.vfio.agent.blobs.BlobStore;
import dev.vfio.api.v1alpha1.Stage;
import dev.vfio.api.v1alpha1.VfioNodeTaskSpec;
import java.io.IOException;
import java.util.List;

/** Removes a snapshot's blobs (and any temporary files a failed save left) from its claim. */
public final class DeleteBlobsOperation implements NodeOperation {
  private final BlobStore blobs;

  public DeleteBlobsOperation(BlobStore blobs) {
    this.blobs = blobs;
  }

  @Override
  public List<String> devices(TaskContext context) {
    return List.of();
  }

  @Override
  public void run(TaskContext context) throws TaskFailure {
    VfioNodeTaskSpec spec = context.task().getSpec();
    BlobDirectory directory = BlobDirectory.of(context.task());
    context.stage(Stage.Deleting);
    try {
      blobs.deleteDirectory(spec.getStorageClaim(), directory.namespace(), directory.snapshot());
    } catch (IOException | RuntimeException e) {
      throw FailureClassifier.DELETE_BLOBS
          .classify(e)
          .in(
              "could not delete "
                  + spec.getBlobDirectory()
                  + " on claim "
                  + spec.getStorageClaim());
    }
    context.succeed(List.of(), null);
  }
}
