package dev.vfio.agent.sim;

import dev.vfio.agent.freeze.PodFreezer;
import dev.vfio.agent.pods.PodRef;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Stands in for the cgroup v2 freezer: a frozen pod is a marker file in the simulation directory,
 * which outlives the agent process the way a frozen cgroup does, so that crash recovery has
 * something real to undo and tests can see whether a pod was left frozen. Like {@code
 * cgroup.freeze}, one marker per pod: the agent shares it through a SharedFreezer.
 */
public final class SimulatedFreezer implements PodFreezer {
  private final Path directory;

  public SimulatedFreezer(Path simulationDirectory) throws IOException {
    this.directory = Files.createDirectories(simulationDirectory.resolve("frozen-pods"));
  }

  @Override
  public void freeze(PodRef pod) throws IOException {
    Files.writeString(marker(pod.uid()), pod.toString());
  }

  @Override
  public void thaw(PodRef pod) throws IOException {
    Files.deleteIfExists(marker(pod.uid()));
  }

  public boolean isFrozen(String podUid) {
    return Files.exists(marker(podUid));
  }

  /** Marker file of a pod; tests look here to check that no pod is left frozen. */
  public static Path marker(Path simulationDirectory, String podUid) {
    return simulationDirectory.resolve("frozen-pods").resolve(podUid);
  }

  private Path marker(String podUid) {
    if (!podUid.matches("[A-Za-z0-9-]+")) {
      throw new IllegalArgumentException("pod uid '" + podUid + "' cannot name a marker file");
    }
    return directory.resolve(podUid);
  }
}
