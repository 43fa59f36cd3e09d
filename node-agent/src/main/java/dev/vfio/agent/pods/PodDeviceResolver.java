package dev.vfio.agent.pods;

import java.io.IOException;
import java.util.List;

/** Finds the VFIO devices a pod's processes hold on this node. */
public interface PodDeviceResolver {
  List<HeldDevice> resolve(PodRef pod) throws IOException;
}
