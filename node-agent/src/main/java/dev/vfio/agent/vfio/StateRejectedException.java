package dev.vfio.agent.vfio;

/**
 * The device refused the state it was sent (incomplete, corrupt, larger than its own, or from an
 * incompatible device): on the arc leaving RESUMING, where drivers check it, or already on a resume
 * {@code write()}. Kept apart from other failures because it says something about the saved state,
 * not about the device or the agent.
 */
public class StateRejectedException extends VfioException {
  private static final long serialVersionUID = 1L;

  public StateRejectedException(String device, String operation, int errno, String detail) {
    super(device, operation, errno, detail);
  }
}
