package dev.vfio.operator.migration;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vfio.api.v1alpha1.MigrationPhase;
import dev.vfio.api.v1alpha1.VfioMigration;
import dev.vfio.api.v1alpha1.VfioMigrationStatus;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import java.util.List;
import org.junit.jupiter.api.Test;

class MigrationAdmissionTest {
  final MigrationAdmission admission = new MigrationAdmission(2, 1);

  @Test
  void migrationsStartUpToTheClusterBoundAndTheRestWaitSayingWhy() {
    assertNull(admission.admit(claim("a", "n1", "n2"), List.of()));
    assertNull(admission.admit(claim("b", "n3", "n4"), List.of()));

    String busy = admission.admit(claim("c", "n5", "n6"), List.of());

    assertTrue(busy.startsWith("2 migrations are in flight"), busy);
    assertTrue(busy.contains("VFIO_MAX_MIGRATIONS=2"), busy);
  }

  @Test
  void aNodeTakesPartInNoMoreMigrationsThanItsBoundWhicheverSideItIs() {
    assertNull(admission.admit(claim("a", "n1", "n2"), List.of()));

    String busy = admission.admit(claim("b", "n2", "n3"), List.of());

    assertTrue(busy.contains("on node n2"), busy);
    assertTrue(busy.contains("VFIO_MAX_MIGRATIONS_PER_NODE=1"), busy);
  }

  @Test
  void aRestoreTouchesOnlyItsTargetNode() {
    assertNull(admission.admit(claim("a", null, "n1"), List.of()));

    assertNull(admission.admit(claim("b", null, "n2"), List.of()));
  }

  @Test
  void aMigrationAskingAgainIsNotCountedAgainstItself() {
    assertNull(admission.admit(claim("a", "n1", "n2"), List.of()));

    assertNull(
        admission.admit(
            claim("a", "n1", "n2"), List.of(migration("a", MigrationPhase.Running, "n1", "n2"))));
  }

  @Test
  void runningMigrationsTheCacheShowsCountAndEndedOnesFreeTheirSlots() {
    List<VfioMigration> known =
        List.of(
            migration("x", MigrationPhase.Running, "n1", "n2"),
            migration("y", MigrationPhase.Running, "n3", "n4"));
    assertNotNull(admission.admit(claim("c", "n5", "n6"), known));

    List<VfioMigration> later =
        List.of(
            migration("x", MigrationPhase.Succeeded, "n1", "n2"),
            migration("y", MigrationPhase.Failed, "n3", "n4"));
    assertNull(admission.admit(claim("c", "n5", "n6"), later));
  }

  @Test
  void aReleasedMigrationFreesItsSlotBeforeTheCacheShowsItEnded() {
    assertNull(admission.admit(claim("a", "n1", "n2"), List.of()));
    assertNull(admission.admit(claim("b", "n3", "n4"), List.of()));

    admission.release(migration("a", MigrationPhase.Succeeded, "n1", "n2"));

    assertNull(admission.admit(claim("c", "n1", "n5"), List.of()));
  }

  private static MigrationAdmission.Claim claim(String name, String source, String target) {
    return new MigrationAdmission.Claim("default/" + name, source, target);
  }

  private static VfioMigration migration(
      String name, MigrationPhase phase, String source, String target) {
    VfioMigration migration = new VfioMigration();
    migration.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace("default").build());
    VfioMigrationStatus status = new VfioMigrationStatus();
    status.setPhase(phase);
    status.setSourceNode(source);
    status.setTargetNode(target);
    migration.setStatus(status);
    return migration;
  }
}
