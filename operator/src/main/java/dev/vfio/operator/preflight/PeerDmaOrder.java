package dev.vfio.operator.preflight;

import dev.vfio.api.v1alpha1.NodeDevice;
import dev.vfio.api.v1alpha1.Reason;
import java.util.List;
import java.util.Optional;

/**
 * Several devices of one pod are stopped together only if each has the P2P migration states: the
 * agent first moves every device to RUNNING_P2P (it stops initiating peer-to-peer DMA but answers
 * it) and only then stops any, so no device loses a transaction a peer sends it. A device without
 * those states cannot promise that; QEMU refuses such sets the same way. The node agent checks it
 * again before it touches a device.
 */
public final class PeerDmaOrder {
  private PeerDmaOrder() {}

  /** Why {@code devices}, stopped together, could lose DMA between them; empty if they cannot. */
  public static Optional<Rejection> check(List<NodeDevice> devices) {
    if (devices.size() < 2) {
      return Optional.empty();
    }
    List<String> withoutP2p =
        devices.stream()
            .filter(d -> d.getMigrationFlags() == null || !d.getMigrationFlags().contains("P2P"))
            .map(NodeDevice::getAddress)
            .toList();
    if (withoutP2p.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(
        new Rejection(
            Reason.DEVICE_NOT_MIGRATABLE,
            "devices "
                + withoutP2p
                + " have no P2P migration states, so "
                + devices.size()
                + " devices cannot be stopped together without losing DMA between them: list"
                + " one device in spec.devices at a time if they do no peer-to-peer DMA"));
  }
}
