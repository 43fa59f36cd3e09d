package dev.vfio.agent.tasks;

/** The {@code <namespace>/<snapshot>} a task's blobs live under, as the operator wrote it. */
public record BlobDirectory(String namespace, String snapshot) {
  public static BlobDirectory parse(String text) throws TaskFailure {
    String[] parts = text == null ? new String[0] : text.split("/");
    if (parts.length != 2 || parts[0].isEmpty() || parts[1].isEmpty()) {
      throw new TaskFailure(
          dev.vfio.api.v1alpha1.Reasons.INVALID_SPEC,
          "blobDirectory '" + text + "' is not <namespace>/<snapshot>");
    }
    return new BlobDirectory(parts[0], parts[1]);
  }
}
