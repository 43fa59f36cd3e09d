package dev.vfio.agent.tasks;

import dev.vfio.api.v1alpha1.Reason;

/**
 * A task that cannot go on, with its reason and a message for the user. Thrown by operations; the
 * worker turns it into the task's Failed or Cancelled status after the devices were rolled back.
 */
public class TaskFailure extends Exception {
  private static final long serialVersionUID = 1L;
  private final Reason reason;

  public TaskFailure(Reason reason, String message) {
    super(message);
    this.reason = reason;
  }

  public TaskFailure(Reason reason, String message, Throwable cause) {
    super(message, cause);
    this.reason = reason;
  }

  public Reason reason() {
    return reason;
  }

  /** The same failure, its message prefixed with where it happened. */
  TaskFailure in(String where) {
    return new TaskFailure(
        reason, where + ": " + getMessage(), getCause() == null ? this : getCause());
  }
}
