package dev.vfio.agent.freeze;

import dev.vfio.agent.pods.PodRef;
import java.io.IOException;

/**
 * The freezer itself — the kernel's cgroup v2 freezer, or the simulation's — without any notion of
 * who asked: {@link #thaw} thaws whoever else still needs the pod frozen. Tasks therefore never use
 * one directly but through {@link SharedFreezer}.
 */
public interface PodFreezer {
  /** Returns once every process of the pod is stopped; on failure the pod is left thawed. */
  void freeze(PodRef pod) throws IOException;

  /** Returns once the pod runs; a pod that is not frozen, or gone, is left as it is. */
  void thaw(PodRef pod) throws IOException;
}
