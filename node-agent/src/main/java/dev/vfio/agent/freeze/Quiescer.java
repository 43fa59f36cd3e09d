package dev.vfio.agent.freeze;

import dev.vfio.agent.pods.PodRef;
import java.io.IOException;

/**
 * Holds every process of a pod still while its devices are out of RUNNING (cgroup v2 {@code
 * cgroup.freeze} on real nodes). A freeze is a hold on the pod: the pod stays frozen until every
 * holder has thawed it, so two operations on the devices of one pod cannot thaw it under each
 * other. A thaw without a hold in this process thaws the pod: journal replay and a Resume after an
 * agent restart thaw pods frozen by an earlier process, or never frozen at all.
 */
public interface Quiescer {
  /** Takes a hold on the pod; returns once it is frozen. */
  void freeze(PodRef pod) throws IOException;

  /** Releases a hold; the pod thaws when no hold is left. */
  void thaw(PodRef pod) throws IOException;
}
