package dev.vfio.agent.transport;

/**
 * This agent has no valid transport certificate: the operator has not signed one (yet), or denied
 * it. A stream cannot start; the task fails as a transfer failure, saying why.
 */
public final class NoCredentialsException extends IllegalStateException {
  private static final long serialVersionUID = 1L;

  public NoCredentialsException(String message, Throwable cause) {
    super(message, cause);
  }
}
