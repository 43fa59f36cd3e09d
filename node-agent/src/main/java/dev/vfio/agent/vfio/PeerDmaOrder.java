package dev.vfio.agent.vfio;

import java.util.List;

/**
 * The order in which several devices of one workload stop and start, as QEMU orders them: every
 * device stops initiating peer-to-peer DMA (RUNNING_P2P) before any stops answering it, and every
 * device answers it again before any initiates it. A device that stopped while a peer still ran
 * could lose that peer's transactions. The agent's tasks and {@code vfioctl} both go through here,
 * so the order the kernel test bed checks is the agent's.
 */
public final class PeerDmaOrder {
  private PeerDmaOrder() {}

  /** Before any device of {@code devices} leaves RUNNING_P2P for STOP or a stopped state. */
  public static void beforeStopping(List<MigrationStateMachine> devices) throws VfioException {
    for (MigrationStateMachine device : devices) {
      device.stopInitiatingPeerDma();
    }
  }

  /** Before any device of {@code devices} goes to RUNNING. */
  public static void beforeRunning(List<MigrationStateMachine> devices) throws VfioException {
    for (MigrationStateMachine device : devices) {
      device.answerPeerDma();
    }
  }
}
