package dev.vfio.agent.journal;

import java.util.List;

/**
 * What a task has done to the node that a crash must undo: the devices it may have moved out of
 * RUNNING, whether it froze the pod, and the blob directory where it may have left temporary files.
 */
public record JournalEntry(
    String taskNamespace,
    String taskName,
    String taskUid,
    String podNamespace,
    String podName,
    String podUid,
    List<String> devices,
    boolean frozen,
    String storageClaim,
    String blobDirectory) {

  public JournalEntry withFrozen(boolean value) {
    return new JournalEntry(
        taskNamespace,
        taskName,
        taskUid,
        podNamespace,
        podName,
        podUid,
        devices,
        value,
        storageClaim,
        blobDirectory);
  }
}
