package dev.vfio.agent.vfio;

import java.util.Optional;

/**
 * What {@link MigrationStateMachine#recoverToRunning()} did to bring a device back to RUNNING.
 *
 * @param found the state the device was found in, empty if it could not be read
 * @param action what it took
 * @param cause why a milder way was not enough, when a reset followed a SET to RUNNING that failed
 *     or a state that could not be read
 */
public record Recovery(
    Optional<MigrationState> found, Action action, Optional<VfioException> cause) {

  /** The ways back to RUNNING, mildest first. */
  public enum Action {
    /** Nothing to do. */
    ALREADY_RUNNING,
    /** A SET to RUNNING; the device kept its state. */
    SET_RUNNING,
    /** {@code VFIO_DEVICE_RESET}; whatever state the device held is gone. */
    RESET
  }

  /** Whether the device lost its internal state on the way back. */
  public boolean deviceStateLost() {
    return action == Action.RESET;
  }

  /** One line for logs and condition messages. */
  public String describe() {
    String from = found.map(MigrationState::name).orElse("an unreadable state");
    return switch (action) {
      case ALREADY_RUNNING -> "device was already RUNNING";
      case SET_RUNNING -> "device moved from " + from + " back to RUNNING";
      case RESET ->
          "device reset from "
              + from
              + " to RUNNING"
              + cause.map(e -> " after " + e.getMessage()).orElse("");
    };
  }
}
