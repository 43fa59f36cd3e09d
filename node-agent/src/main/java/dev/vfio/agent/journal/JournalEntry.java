package dev.vfio.agent.journal;

import dev.vfio.api.v1alpha1.TaskOperation;
import java.util.List;

/**
 * What a task has done to the node that a crash must undo: the devices it may have moved out of
 * RUNNING, whether it froze the pod, and the blob directory where it may have left temporary files.
 * {@code operation} says whether the operator's switchover decision governs the undo (Send and
 * Receive); an entry of an agent that did not record it (null) is undone as a Save.
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
    String blobDirectory,
    TaskOperation operation) {

  /** Whether the operator's switchover decision says how to undo it: a Send's or a Receive's. */
  public boolean awaitsSwitchover() {
    return operation == TaskOperation.Send || operation == TaskOperation.Receive;
  }

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
        blobDirectory,
        operation);
  }
}
