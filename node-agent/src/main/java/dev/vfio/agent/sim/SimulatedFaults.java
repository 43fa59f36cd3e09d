package dev.vfio.agent.sim;

import dev.vfio.agent.vfio.Errno;
import dev.vfio.agent.vfio.MigrationState;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Failures a simulated device injects, so that tests and the sandbox can exercise every recovery
 * path: a failing arc, a save stream that breaks after some bytes, a slow stream, and resume data
 * the device rejects. Set from configuration and replaceable at runtime with
 * {@link SimulatedDevice#setFaults}.
 *
 * @param arcs arcs that fail whenever a walk reaches them
 * @param failStreamAfterBytes reads of a save session fail with EIO once it produced this many
 * @param bytesPerSecond save reads deliver at most this rate; 0 for no limit
 * @param rejectResumeData the arc leaving RESUMING fails with EIO whatever was written
 */
public record SimulatedFaults(
    List<ArcFault> arcs,
    OptionalLong failStreamAfterBytes,
    long bytesPerSecond,
    boolean rejectResumeData) {

  public static final SimulatedFaults NONE =
      new SimulatedFaults(List.of(), OptionalLong.empty(), 0, false);

  public SimulatedFaults {
    arcs = List.copyOf(arcs);
    Objects.requireNonNull(failStreamAfterBytes, "failStreamAfterBytes");
    if (bytesPerSecond < 0) {
      throw new IllegalArgumentException("bytesPerSecond must not be negative: " + bytesPerSecond);
    }
  }

  /**
   * The arc {@code from → to} fails with {@code errno}; the device stays in {@code from}, or
   * drops to ERROR when {@code leaveInError} (drivers may do either).
   */
  public record ArcFault(MigrationState from, MigrationState to, Errno errno, boolean leaveInError) {
    public ArcFault {
      Objects.requireNonNull(from, "from");
      Objects.requireNonNull(to, "to");
      Objects.requireNonNull(errno, "errno");
    }
  }

  public SimulatedFaults withArcFault(
      MigrationState from, MigrationState to, Errno errno, boolean leaveInError) {
    List<ArcFault> more = new ArrayList<>(arcs);
    more.add(new ArcFault(from, to, errno, leaveInError));
    return new SimulatedFaults(more, failStreamAfterBytes, bytesPerSecond, rejectResumeData);
  }

  public SimulatedFaults withStreamFailureAfter(long bytes) {
    return new SimulatedFaults(arcs, OptionalLong.of(bytes), bytesPerSecond, rejectResumeData);
  }

  public SimulatedFaults withBytesPerSecond(long rate) {
    return new SimulatedFaults(arcs, failStreamAfterBytes, rate, rejectResumeData);
  }

  public SimulatedFaults withRejectedResumeData() {
    return new SimulatedFaults(arcs, failStreamAfterBytes, bytesPerSecond, true);
  }

  Optional<ArcFault> arcFault(MigrationState from, MigrationState to) {
    return arcs.stream().filter(fault -> fault.from() == from && fault.to() == to).findFirst();
  }
}
