package dev.vfio.agent.sim;

import dev.vfio.agent.pods.HeldDevice;
import dev.vfio.agent.pods.PodDeviceResolver;
import dev.vfio.agent.pods.PodRef;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

/**
 * In simulated mode a pod holds the devices listed in its {@value #ANNOTATION} annotation — the
 * only place the simulation shows in the API. Addresses this node does not simulate are ignored, as
 * a real node would not find them in the pod's processes either.
 */
public final class SimulatedPodResolver implements PodDeviceResolver {
  public static final String ANNOTATION = "vfio.dev/simulated-devices";
  private final Set<String> nodeDevices;
  private final PeerDma peerDma;

  /** {@code peerDma} learns which devices each resolved pod holds together. */
  public SimulatedPodResolver(Set<String> nodeDevices, PeerDma peerDma) {
    this.nodeDevices = Set.copyOf(nodeDevices);
    this.peerDma = peerDma;
  }

  @Override
  public List<HeldDevice> resolve(PodRef pod) {
    String listed = pod.annotations().get(ANNOTATION);
    if (listed == null || listed.isBlank()) {
      return List.of();
    }
    List<String> held =
        Arrays.stream(listed.split(","))
            .map(String::trim)
            .filter(nodeDevices::contains)
            .distinct()
            .toList();
    peerDma.holdTogether(held);
    return held.stream().map(HeldDevice::unheld).toList();
  }
}
