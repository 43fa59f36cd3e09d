package dev.vfio.operator.snapshot;

import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vfio.api.v1alpha1.VfioSnapshot;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import org.junit.jupiter.api.Test;

class SnapshotAdmissionTest {
  final SnapshotAdmission admission = new SnapshotAdmission(3, 2);

  @Test
  void aNamespaceTakesNoMoreThanItsBoundAndTheOthersStillStart() {
    assertNull(admission.admit(snapshot("team-a", "one")));
    assertNull(admission.admit(snapshot("team-a", "two")));

    String busy = admission.admit(snapshot("team-a", "three"));

    assertTrue(busy.contains("in namespace team-a"), busy);
    assertTrue(busy.contains("VFIO_MAX_SNAPSHOTS_PER_NAMESPACE=2"), busy);
    assertNull(admission.admit(snapshot("team-b", "one")), "another namespace is not held up");
  }

  @Test
  void snapshotsStartUpToTheClusterBoundAndStartAgainOnceOneEnded() {
    admission.admit(snapshot("a", "one"));
    admission.admit(snapshot("b", "one"));
    admission.admit(snapshot("c", "one"));

    String busy = admission.admit(snapshot("d", "one"));
    assertTrue(busy.startsWith("3 snapshots are in flight"), busy);
    assertTrue(busy.contains("VFIO_MAX_SNAPSHOTS=3"), busy);

    admission.release(snapshot("b", "one"));
    assertNull(admission.admit(snapshot("d", "one")));
  }

  @Test
  void aSnapshotAlreadyAdmittedOrRunningKeepsItsSlot() {
    admission.admit(snapshot("a", "one"));
    assertNull(admission.admit(snapshot("a", "one")), "asking again takes no second slot");
    admission.hold(snapshot("a", "two"));
    admission.hold(snapshot("a", "three"));

    assertTrue(admission.admit(snapshot("b", "one")) != null, "running ones count after a restart");
  }

  private static VfioSnapshot snapshot(String namespace, String name) {
    VfioSnapshot snapshot = new VfioSnapshot();
    snapshot.setMetadata(new ObjectMetaBuilder().withNamespace(namespace).withName(name).build());
    return snapshot;
  }
}
