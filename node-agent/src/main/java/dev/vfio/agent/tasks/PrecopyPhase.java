package dev.vfio.agent.tasks;

import dev.vfio.agent.vfio.PrecopyInfo;
import dev.vfio.agent.vfio.PrecopyRound;
import dev.vfio.api.v1alpha1.PrecopyProgress;
import java.time.Duration;
import java.util.Collection;
import java.util.Optional;

/**
 * The PRE_COPY phase of one device's save: what its rounds read and found pending, and when the
 * device may switch over to STOP_COPY.
 *
 * <p>The rule: not before the initial data has all been read, and then once little is pending or
 * the rounds run out. A device that raises {@code VFIO_PRECOPY_INFO_REINIT} puts new initial data
 * on the stream; it is read in further rounds, past {@code maxRounds} if need be, so that it
 * reaches the target while the workload still runs, as the uAPI asks and as QEMU 11.1 re-arms its
 * switchover-ack. That wait is bounded: by the task's deadline, by {@code maxRounds} further
 * rounds, and by a round that reads nothing although the round before left initial data pending
 * (the device breaks the uAPI then). Switching over earlier loses nothing, the stream is one: the
 * rest of the initial data is read in STOP_COPY, while the workload is stopped.
 *
 * <p>Confined to the thread that saves the device; {@link #progress} is a copy for the status.
 */
final class PrecopyPhase {
  private final int maxRounds;
  private final long thresholdBytes;
  private int rounds;
  private int reinits;
  private long bytesRead;
  private Duration reading = Duration.ZERO;
  private PrecopyRound last;

  /** The device read nothing in a round that began with initial data said to be pending. */
  private boolean stalled;

  PrecopyPhase(int maxRounds, long thresholdBytes) {
    if (maxRounds < 1) {
      throw new IllegalArgumentException("maxRounds must be at least 1: " + maxRounds);
    }
    this.maxRounds = maxRounds;
    this.thresholdBytes = thresholdBytes;
  }

  /** One round read {@code round.bytes()} in {@code took}. */
  void record(PrecopyRound round, Duration took) {
    boolean initialPending = last != null && !initialDataSent();
    stalled = initialPending && round.bytes() == 0;
    rounds++;
    bytesRead += round.bytes();
    reading = reading.plus(took);
    if (round.remaining().map(PrecopyInfo::reinit).orElse(false)) {
      reinits++;
    }
    last = round;
  }

  int rounds() {
    return rounds;
  }

  /** Whether the device may leave PRE_COPY now; false before the first round. */
  boolean switchoverReady() {
    if (last == null) {
      return false;
    }
    if (!initialDataSent()) {
      return stalled || rounds >= 2 * maxRounds;
    }
    return pendingBytes() < thresholdBytes || rounds >= maxRounds;
  }

  /** This device's phase as the task status shows it. */
  PrecopyProgress progress() {
    PrecopyProgress progress = new PrecopyProgress();
    Optional<PrecopyInfo> info = last == null ? Optional.empty() : last.remaining();
    progress.setInitialBytes(info.map(PrecopyInfo::initialBytes).orElse(null));
    progress.setDirtyBytes(info.map(PrecopyInfo::dirtyBytes).orElse(null));
    progress.setRounds(rounds);
    progress.setReinits(reinits);
    progress.setEstimatedSwitchoverMillis(estimatedSwitchoverMillis());
    return progress;
  }

  /**
   * The phase of a save of several devices: bytes and REINITs summed, the most rounds, and the
   * latest switchover, which waits for every device; unknown when any device's is.
   */
  static PrecopyProgress combine(Collection<PrecopyProgress> devices) {
    PrecopyProgress all = new PrecopyProgress();
    all.setInitialBytes(sum(devices.stream().map(PrecopyProgress::getInitialBytes).toList()));
    all.setDirtyBytes(sum(devices.stream().map(PrecopyProgress::getDirtyBytes).toList()));
    all.setRounds(devices.stream().mapToInt(PrecopyProgress::getRounds).max().orElse(0));
    all.setReinits(devices.stream().mapToInt(PrecopyProgress::getReinits).sum());
    boolean known = devices.stream().allMatch(d -> d.getEstimatedSwitchoverMillis() != null);
    all.setEstimatedSwitchoverMillis(
        known
            ? devices.stream()
                .mapToLong(PrecopyProgress::getEstimatedSwitchoverMillis)
                .max()
                .orElse(0)
            : null);
    return all;
  }

  /**
   * Where the kernel has no precopy info, a round that drained the device sent the initial data.
   */
  private boolean initialDataSent() {
    return last.remaining().map(info -> info.initialBytes() == 0).orElse(last.drained());
  }

  private long pendingBytes() {
    return last.remaining().map(PrecopyInfo::pending).orElse(0L);
  }

  /** What is pending at the rate PRE_COPY has read so far; null before that rate is known. */
  private Long estimatedSwitchoverMillis() {
    if (last != null && switchoverReady()) {
      return 0L;
    }
    if (bytesRead == 0 || reading.isZero()) {
      return null;
    }
    double bytesPerMilli = bytesRead / (reading.toNanos() / 1e6);
    return (long) Math.ceil(pendingBytes() / bytesPerMilli);
  }

  private static Long sum(Collection<Long> values) {
    return values.stream().anyMatch(value -> value == null)
        ? null
        : values.stream().mapToLong(Long::longValue).sum();
  }
}
