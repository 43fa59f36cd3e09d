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
 * path: a failing arc, a save stream that breaks after some bytes, a slow stream, resume data the
 * device rejects when it leaves RESUMING, and resume writes it refuses. Set from configuration and
 * replaceable at runtime with {@link SimulatedDevice#setFaults}.
 *
 * @param arcs arcs that fail whenever a walk reaches them
 * @param failStreamAfterBytes reads of a save session fail with EIO once it produced this many
 * @param bytesPerSecond save reads deliver at most this rate; 0 for no limit
 * @param rejectResumeData the arc leaving RESUMING fails with EIO whatever was written
 * @param refuseResumeWrite resume {@code write()}s the device refuses, if any
 */
public record SimulatedFaults(
    List<ArcFault> arcs,
    OptionalLong failStreamAfterBytes,
    long bytesPerSecond,
    boolean rejectResumeData,
    Optional<WriteRefusal> refuseResumeWrite) {

  public static final SimulatedFaults NONE =
      new SimulatedFaults(List.of(), OptionalLong.empty(), 0, false, Optional.empty());

  public SimulatedFaults {
    arcs = List.copyOf(arcs);
    Objects.requireNonNull(failStreamAfterBytes, "failStreamAfterBytes");
    Objects.requireNonNull(refuseResumeWrite, "refuseResumeWrite");
    if (bytesPerSecond < 0) {
      throw new IllegalArgumentException("bytesPerSecond must not be negative: " + bytesPerSecond);
    }
  }

  /**
   * The arc {@code from → to} fails with {@code errno}; the device stays in {@code from}, or drops
   * to ERROR when {@code leaveInError} (drivers may do either).
   */
  public record ArcFault(
      MigrationState from, MigrationState to, Errno errno, boolean leaveInError) {
    public ArcFault {
      Objects.requireNonNull(from, "from");
      Objects.requireNonNull(to, "to");
      Objects.requireNonNull(errno, "errno");
    }
  }

  /**
   * A driver refusing resume data on {@code write()}, as the uAPI lets it: the write that would
   * take the session past {@code afterBytes} fails with {@code errno} and takes none of its bytes,
   * the way mtty and hisi_acc check the position plus the whole request against their state size
   * (ENOMEM) and refuse a header they do not know (EINVAL, EFAULT). The device stays in RESUMING
   * with its session open; as for any resume, only a reset ends it without loading.
   */
  public record WriteRefusal(long afterBytes, Errno errno) {
    public WriteRefusal {
      Objects.requireNonNull(errno, "errno");
      if (afterBytes < 0) {
        throw new IllegalArgumentException("afterBytes must not be negative: " + afterBytes);
      }
    }
  }

  public SimulatedFaults withArcFault(
      MigrationState from, MigrationState to, Errno errno, boolean leaveInError) {
    List<ArcFault> more = new ArrayList<>(arcs);
    more.add(new ArcFault(from, to, errno, leaveInError));
    return new SimulatedFaults(
        more, failStreamAfterBytes, bytesPerSecond, rejectResumeData, refuseResumeWrite);
  }

  public SimulatedFaults withStreamFailureAfter(long bytes) {
    return new SimulatedFaults(
        arcs, OptionalLong.of(bytes), bytesPerSecond, rejectResumeData, refuseResumeWrite);
  }

  public SimulatedFaults withBytesPerSecond(long rate) {
    return new SimulatedFaults(
        arcs, failStreamAfterBytes, rate, rejectResumeData, refuseResumeWrite);
  }

  public SimulatedFaults withRejectedResumeData() {
    return new SimulatedFaults(arcs, failStreamAfterBytes, bytesPerSecond, true, refuseResumeWrite);
  }

  /** See {@link WriteRefusal}. */
  public SimulatedFaults withResumeWritesRefusedAfter(long afterBytes, Errno errno) {
    return new SimulatedFaults(
        arcs,
        failStreamAfterBytes,
        bytesPerSecond,
        rejectResumeData,
        Optional.of(new WriteRefusal(afterBytes, errno)));
  }

  Optional<ArcFault> arcFault(MigrationState from, MigrationState to) {
    return arcs.stream().filter(fault -> fault.from() == from && fault.to() == to).findFirst();
  }
}
