package dev.vfio.agent.pods;

/**
 * A VFIO device a pod's process holds open. On real nodes {@code pid} and {@code fd} say where (so
 * the agent can duplicate that very file with pidfd_getfd); -1 when no process holds it or when the
 * device is simulated.
 */
public record HeldDevice(String address, int pid, int fd) {
  public static HeldDevice unheld(String address) {
    return new HeldDevice(address, -1, -1);
  }
}
