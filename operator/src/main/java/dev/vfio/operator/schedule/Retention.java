package dev.vfio.operator.schedule;

import dev.vfio.api.v1alpha1.Durations;
import dev.vfio.api.v1alpha1.RetentionSpec;
import dev.vfio.api.v1alpha1.SnapshotPhase;
import dev.vfio.api.v1alpha1.VfioSnapshot;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Which of a schedule's snapshots its retention deletes. A snapshot that has not ended is never
 * deleted, nor is the newest Ready one by age or size: a schedule never drops its last good
 * checkpoint on its own. Of the others, one goes as soon as any bound says so.
 */
record Retention(int keepLast, int keepFailed, Duration maxAge, Long maxTotalBytes) {
  static final int KEEP_LAST = 7;
  static final int KEEP_FAILED = 1;

  /** The spec's bounds, with the defaults where it says nothing. */
  static Retention of(RetentionSpec spec) {
    if (spec == null) {
      return new Retention(KEEP_LAST, KEEP_FAILED, null, null);
    }
    return new Retention(
        spec.getKeepLast() == null ? KEEP_LAST : spec.getKeepLast(),
        spec.getKeepFailed() == null ? KEEP_FAILED : spec.getKeepFailed(),
        spec.getMaxAge() == null
            ? null
            : Durations.parse("spec.retention.maxAge", spec.getMaxAge(), null, Durations.MAX_TTL),
        spec.getMaxTotalBytes());
  }

  /** The snapshots of {@code owned} to delete at {@code now}, oldest first. */
  List<VfioSnapshot> toDelete(List<VfioSnapshot> owned, Instant now) {
    List<VfioSnapshot> ready = newestFirst(owned, SnapshotPhase.Ready);
    List<VfioSnapshot> failed = newestFirst(owned, SnapshotPhase.Failed);
    Set<VfioSnapshot> doomed = new LinkedHashSet<>();
    doomed.addAll(ready.subList(Math.min(keepLast, ready.size()), ready.size()));
    doomed.addAll(failed.subList(Math.min(keepFailed, failed.size()), failed.size()));
    if (maxAge != null) {
      Instant oldest = now.minus(maxAge);
      failed.stream().filter(s -> created(s).isBefore(oldest)).forEach(doomed::add);
      ready.stream().skip(1).filter(s -> created(s).isBefore(oldest)).forEach(doomed::add);
    }
    if (maxTotalBytes != null && !ready.isEmpty()) {
      long total = bytes(ready.get(0));
      for (VfioSnapshot snapshot : ready.subList(1, ready.size())) {
        total += bytes(snapshot);
        if (total > maxTotalBytes) {
          doomed.add(snapshot);
        }
      }
    }
    List<VfioSnapshot> oldestFirst = new ArrayList<>(doomed);
    oldestFirst.sort(ORDER);
    return oldestFirst;
  }

  /** By creation, then name: the order a schedule made them in. */
  static final Comparator<VfioSnapshot> ORDER =
      Comparator.comparing(Retention::created).thenComparing(s -> s.getMetadata().getName());

  static boolean ended(VfioSnapshot snapshot) {
    SnapshotPhase phase = phase(snapshot);
    return phase == SnapshotPhase.Ready || phase == SnapshotPhase.Failed;
  }

  static long bytes(VfioSnapshot snapshot) {
    Long total = snapshot.getStatus() == null ? null : snapshot.getStatus().getTotalBytes();
    return total == null ? 0 : total;
  }

  private static List<VfioSnapshot> newestFirst(List<VfioSnapshot> owned, SnapshotPhase phase) {
    return owned.stream()
        .filter(s -> s.getMetadata().getDeletionTimestamp() == null && phase(s) == phase)
        .sorted(ORDER.reversed())
        .toList();
  }

  private static SnapshotPhase phase(VfioSnapshot snapshot) {
    return snapshot.getStatus() == null ? null : snapshot.getStatus().getPhase();
  }

  private static Instant created(VfioSnapshot snapshot) {
    String created = snapshot.getMetadata().getCreationTimestamp();
    return created == null ? Instant.EPOCH : OffsetDateTime.parse(created).toInstant();
  }
}
