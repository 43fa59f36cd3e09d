package dev.vfio.agent.cli;

/**
 * A command that could not do what was asked. The message is the whole story for the admin: the
 * device, what failed with which errno, and what state the device was left or brought back in.
 */
final class CommandFailure extends Exception {
  private static final long serialVersionUID = 1L;

  CommandFailure(String message) {
    super(message);
  }

  CommandFailure(String message, Throwable cause) {
    super(message, cause);
  }
}
