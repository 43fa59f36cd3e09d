package dev.vfio.agent.vfio;

/**
 * The arc leaving RESUMING failed: the device refused the state it was sent (incomplete, corrupt,
 * or from an incompatible device). Kept apart from other transition failures because it says
 * something about the saved state, not about the device or the agent.
 */
public class StateRejectedException extends VfioException {
  private static final long serialVersionUID = 1L;

  public StateRejectedException(String device, String operation, int errno, String detail) {
    super(device, operation, errno, detail);
  }
}
