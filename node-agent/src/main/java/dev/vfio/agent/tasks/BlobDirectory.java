package dev.vfio.agent.tasks;

import dev.vfio.api.v1alpha1.Reason;
import dev.vfio.api.v1alpha1.VfioNodeTask;

/** The {@code <namespace>/<snapshot>} a task's blobs live under, as the operator wrote it. */
public record BlobDirectory(String namespace, String snapshot) {
  /**
   * The blob directory of {@code task}, which must lie in the task's own namespace: the operator
   * only ever writes it so, and an agent that followed a task into another namespace's directory
   * would read, overwrite or delete the device state of workloads its creator cannot see.
   */
  public static BlobDirectory of(VfioNodeTask task) throws TaskFailure {
    String text = task.getSpec().getBlobDirectory();
    String[] parts = text == null ? new String[0] : text.split("/");
    if (parts.length != 2 || parts[0].isEmpty() || parts[1].isEmpty()) {
      throw new TaskFailure(
          Reason.INVALID_SPEC, "blobDirectory '" + text + "' is not <namespace>/<snapshot>");
    }
    String namespace = task.getMetadata().getNamespace();
    if (!parts[0].equals(namespace)) {
      throw new TaskFailure(
          Reason.INVALID_SPEC,
          "blobDirectory '"
              + text
              + "' lies outside the task's namespace "
              + namespace
              + ": a task reaches only the blobs of its own namespace");
    }
    return new BlobDirectory(parts[0], parts[1]);
  }
}
