package dev.vfio.agent.freeze;

import dev.vfio.agent.pods.PodRef;
import java.io.IOException;

/**
 * Holds every process of a pod still while its devices are out of RUNNING (cgroup v2
 * {@code cgroup.freeze} on real nodes). Thaw is idempotent: journal replay may thaw a pod that a
 * crashed agent never froze.
 */
public interface Quiescer {
  void freeze(PodRef pod) throws IOException;

  void thaw(PodRef pod) throws IOException;
}
