package dev.vfio.operator.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.vfio.api.v1alpha1.RetentionSpec;
import dev.vfio.api.v1alpha1.SnapshotPhase;
import dev.vfio.api.v1alpha1.VfioSnapshot;
import dev.vfio.api.v1alpha1.VfioSnapshotStatus;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class RetentionTest {
  static final Instant NOW = Instant.parse("2026-12-07T12:00:00Z");

  @Test
  void keepsTheNewestReadyAndFailedSnapshotsAndNeverOneThatHasNotEnded() {
    List<VfioSnapshot> owned =
        List.of(
            snapshot("r1", 10, SnapshotPhase.Ready, 100),
            snapshot("f1", 9, SnapshotPhase.Failed, 0),
            snapshot("r2", 8, SnapshotPhase.Ready, 100),
            snapshot("f2", 7, SnapshotPhase.Failed, 0),
            snapshot("r3", 6, SnapshotPhase.Ready, 100),
            snapshot("running", 5, SnapshotPhase.Running, 0),
            snapshot("pending", 4, null, 0));

    assertEquals(
        List.of("r1", "f1"),
        names(new Retention(2, 1, null, null).toDelete(owned, NOW)),
        "oldest first: the two oldest Ready beyond two kept, the older Failed");
  }

  @Test
  void theDefaultsKeepSevenReadyAndOneFailed() {
    Retention defaults = Retention.of(null);
    assertEquals(new Retention(7, 1, null, null), defaults);
    RetentionSpec some = new RetentionSpec();
    some.setKeepLast(3);
    some.setMaxAge("48h");
    assertEquals(new Retention(3, 1, Duration.ofHours(48), null), Retention.of(some));
  }

  @Test
  void anAgeBoundDeletesOlderSnapshotsButNotTheNewestReadyOne() {
    List<VfioSnapshot> owned =
        List.of(
            snapshot("old-ready", 50, SnapshotPhase.Ready, 100),
            snapshot("old-failed", 49, SnapshotPhase.Failed, 0),
            snapshot("newest-ready", 30, SnapshotPhase.Ready, 100));

    assertEquals(
        List.of("old-ready", "old-failed"),
        names(new Retention(7, 1, Duration.ofHours(24), null).toDelete(owned, NOW)));
  }

  @Test
  void aSizeBoundDeletesTheOldestReadySnapshotsBeyondItButNotTheNewest() {
    List<VfioSnapshot> owned =
        List.of(
            snapshot("a", 4, SnapshotPhase.Ready, 400),
            snapshot("b", 3, SnapshotPhase.Ready, 300),
            snapshot("c", 2, SnapshotPhase.Ready, 200),
            snapshot("d", 1, SnapshotPhase.Ready, 1000));

    assertEquals(
        List.of("a", "b", "c"),
        names(new Retention(7, 1, null, 500L).toDelete(owned, NOW)),
        "d alone is over the bound and still kept");
    assertEquals(List.of("a", "b"), names(new Retention(7, 1, null, 1200L).toDelete(owned, NOW)));
  }

  @Test
  void aSnapshotAlreadyBeingDeletedIsNotDeletedAgain() {
    VfioSnapshot going = snapshot("going", 3, SnapshotPhase.Ready, 100);
    going.getMetadata().setDeletionTimestamp("2026-12-07T11:59:00Z");
    List<VfioSnapshot> owned = List.of(going, snapshot("kept", 1, SnapshotPhase.Ready, 100));

    assertEquals(List.of(), names(new Retention(1, 1, null, null).toDelete(owned, NOW)));
  }

  private static VfioSnapshot snapshot(String name, int hoursAgo, SnapshotPhase phase, long bytes) {
    VfioSnapshot snapshot = new VfioSnapshot();
    snapshot.setMetadata(
        new ObjectMetaBuilder()
            .withName(name)
            .withNamespace("default")
            .withCreationTimestamp(NOW.minus(Duration.ofHours(hoursAgo)).toString())
            .build());
    VfioSnapshotStatus status = new VfioSnapshotStatus();
    status.setPhase(phase);
    status.setTotalBytes(bytes);
    snapshot.setStatus(status);
    return snapshot;
  }

  private static List<String> names(List<VfioSnapshot> snapshots) {
    return snapshots.stream().map(s -> s.getMetadata().getName()).toList();
  }
}
