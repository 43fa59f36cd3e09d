package dev.vfio.agent.pods;

import java.io.IOException;
import java.util.List;

/**
 * The open files of a process. The resolver reads them through this seam so that tests can stand in
 * for a kernel that refuses access, which a fixture tree cannot do for a root user.
 */
@FunctionalInterface
interface OpenFiles {
  /**
   * The process's open files in fd order.
   *
   * @throws java.nio.file.NoSuchFileException when the process has exited
   * @throws java.nio.file.AccessDeniedException when the agent may not look into it
   */
  List<OpenFd> of(int pid) throws IOException;
}
