package dev.vfio.agent.tasks;

/**
 * A task that cannot go on, with the reason (a constant of {@code Reasons}) and a message for the
 * user. Thrown by operations; the worker turns it into the task's Failed or Cancelled status after
 * the devices were rolled back.
 */
public class TaskFailure extends Exception {
  private static final long serialVersionUID = 1L;
  private final String reason;

  public TaskFailure(String reason, String message) {
    super(message);
    this.reason = reason;
  }

  public TaskFailure(String reason, String message, Throwable cause) {
    super(message, cause);
    this.reason = reason;
  }

  public String reason() {
    return reason;
  }

  /** The same failure, its message prefixed with where it happened. */
  TaskFailure in(String where) {
    return new TaskFailure(
        reason, where + ": " + getMessage(), getCause() == null ? this : getCause());
  }
}
