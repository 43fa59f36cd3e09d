package dev.vfio.operator.migration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vfio.api.v1alpha1.Reasons;
import dev.vfio.api.v1alpha1.VfioMigration;
import dev.vfio.operator.config.OperatorConfig;
import dev.vfio.operator.preflight.Rejection;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class MigrationPreflightTest {
  static final Instant NOW = Instant.parse("2026-11-27T12:00:00Z");
  final MigrationPreflight preflight = new MigrationPreflight(
      new OperatorConfig("vfio-snapshots", Duration.ofMinutes(10), Duration.ofSeconds(60), 0, "", 5, 2, "ns/secret"));

  @Test
  void aTransportThisOperatorDoesNotKnowIsRefusedRatherThanTakenForAuto() {
    Rejection rejection = rejected(fromANewerCrd("\"transport\": \"Rdma\""));

    assertEquals(Reasons.INVALID_SPEC, rejection.reason());
    assertTrue(rejection.message().startsWith(
        "spec.transport: \"Rdma\" is not a value this operator knows (Auto, Direct, Storage);"), rejection.message());
  }

  @Test
  void aNestedFieldThisOperatorDoesNotKnowIsRefusedWithItsPath() {
    Rejection rejection = rejected(fromANewerCrd(
        "\"deviceMap\": [{\"source\": \"0000:3b:00.0\", \"target\": \"0000:5e:00.0\", \"lanes\": 2}]"));

    assertEquals(Reasons.INVALID_SPEC, rejection.reason());
    assertTrue(rejection.message().startsWith("spec.deviceMap[0].lanes is not a field this operator knows;"),
        rejection.message());
  }

  @Test
  void aTargetPodNameThatIsNoNameIsRefusedBeforeAnyPodIsLookedUp() {
    VfioMigration migration = fromANewerCrd("\"transport\": \"Auto\"");
    migration.getSpec().setTargetPodName("other/x");

    Rejection rejection = rejected(migration);

    assertEquals(Reasons.INVALID_SPEC, rejection.reason());
    assertTrue(rejection.message().startsWith("spec.targetPodName 'other/x' is not a valid name"), rejection.message());
  }

  @Test
  void aSourceSnapshotNameThatIsNoNameIsRefused() {
    VfioMigration migration = fromANewerCrd("\"transport\": \"Storage\"");
    migration.getSpec().getSource().setPodName(null);
    migration.getSpec().getSource().setSnapshotName("../../etc");

    assertTrue(rejected(migration).message().startsWith("spec.source.snapshotName '../../etc' is not a valid name"));
  }

  /** Refused before any pod, node or snapshot is looked up: none exists here. */
  private Rejection rejected(VfioMigration migration) {
    var outcome = preflight.check(migration, pod -> null, node -> null, snapshot -> null, NOW);
    return assertInstanceOf(MigrationPreflight.Rejected.class, outcome).rejection();
  }

  /** A migration as the API server stores it under a newer CRD: a valid spec with {@code json} besides. */
  private static VfioMigration fromANewerCrd(String json) {
    return Serialization.unmarshal("""
        {"apiVersion": "vfio.dev/v1alpha1", "kind": "VfioMigration",
         "metadata": {"name": "mig", "namespace": "default"},
         "spec": {"source": {"podName": "gpu-workload"}, "targetPodName": "gpu-target", %s}}
        """.formatted(json), VfioMigration.class);
  }
}
