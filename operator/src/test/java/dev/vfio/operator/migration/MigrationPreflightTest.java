package dev.vfio.operator.migration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vfio.api.v1alpha1.Condition;
import dev.vfio.api.v1alpha1.Conditions;
import dev.vfio.api.v1alpha1.DeviceFingerprint;
import dev.vfio.api.v1alpha1.DeviceResult;
import dev.vfio.api.v1alpha1.MigrationPhase;
import dev.vfio.api.v1alpha1.NodeDevice;
import dev.vfio.api.v1alpha1.PodAnnotations;
import dev.vfio.api.v1alpha1.PodReference;
import dev.vfio.api.v1alpha1.Reason;
import dev.vfio.api.v1alpha1.SnapshotPhase;
import dev.vfio.api.v1alpha1.SourceState;
import dev.vfio.api.v1alpha1.VfioMigration;
import dev.vfio.api.v1alpha1.VfioMigrationStatus;
import dev.vfio.api.v1alpha1.VfioNode;
import dev.vfio.api.v1alpha1.VfioNodeStatus;
import dev.vfio.api.v1alpha1.VfioSnapshot;
import dev.vfio.api.v1alpha1.VfioSnapshotSpec;
import dev.vfio.api.v1alpha1.VfioSnapshotStatus;
import dev.vfio.operator.config.OperatorConfig;
import dev.vfio.operator.preflight.Rejection;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class MigrationPreflightTest {
  static final Instant NOW = Instant.parse("2026-11-27T12:00:00Z");
  final MigrationPreflight preflight =
      new MigrationPreflight(
          new OperatorConfig(
              "vfio-snapshots",
              Duration.ofMinutes(10),
              Duration.ofSeconds(60),
              0,
              "",
              5,
              2,
              10,
              4,
              "ns/secret",
              "ns/blob-key",
              "ns/agent",
              Duration.ofHours(24),
              false));

  @Test
  void aTransportThisOperatorDoesNotKnowIsRefusedRatherThanTakenForAuto() {
    Rejection rejection = rejected(migrationWith("\"transport\": \"Rdma\""));

    assertEquals(Reason.INVALID_SPEC, rejection.reason());
    assertTrue(
        rejection
            .message()
            .startsWith(
                "spec.transport: \"Rdma\" is not a value this operator knows (Auto, Direct, Storage);"),
        rejection.message());
  }

  @Test
  void aNestedFieldThisOperatorDoesNotKnowIsRefusedWithItsPath() {
    Rejection rejection =
        rejected(
            migrationWith(
                "\"deviceMap\": [{\"source\": \"0000:3b:00.0\", \"target\": \"0000:5e:00.0\", \"lanes\": 2}]"));

    assertEquals(Reason.INVALID_SPEC, rejection.reason());
    assertTrue(
        rejection
            .message()
            .startsWith("spec.deviceMap[0].lanes is not a field this operator knows;"),
        rejection.message());
  }

  @Test
  void aTargetPodNameThatIsNoNameIsRefusedBeforeAnyPodIsLookedUp() {
    VfioMigration migration = migrationWith("\"transport\": \"Auto\"");
    migration.getSpec().setTargetPodName("other/x");

    Rejection rejection = rejected(migration);

    assertEquals(Reason.INVALID_SPEC, rejection.reason());
    assertTrue(
        rejection.message().startsWith("spec.targetPodName 'other/x' is not a valid name"),
        rejection.message());
  }

  @Test
  void aSourceSnapshotNameThatIsNoNameIsRefused() {
    VfioMigration migration = migrationWith("\"transport\": \"Storage\"");
    migration.getSpec().getSource().setPodName(null);
    migration.getSpec().getSource().setSnapshotName("../../etc");

    assertTrue(
        rejected(migration)
            .message()
            .startsWith("spec.source.snapshotName '../../etc' is not a valid name"));
  }

  @Test
  void aSourceThatASucceededLiveMigrationLeftStoppedIsRefusedNamingThatMigration() {
    VfioMigration earlier = migrationWith("\"transport\": \"Direct\"");
    earlier.getMetadata().setName("earlier");
    earlier.setStatus(new VfioMigrationStatus());
    earlier.getStatus().setPhase(MigrationPhase.Succeeded);
    earlier.getStatus().setSourcePodUid("uid-source");

    var outcome =
        preflight.check(
            migrationWith("\"transport\": \"Direct\""),
            pods(target(true)),
            nodes(),
            snapshot -> null,
            () -> List.of(earlier),
            NOW);

    Rejection rejection = assertInstanceOf(MigrationPreflight.Rejected.class, outcome).rejection();
    assertEquals(Reason.SOURCE_STOPPED, rejection.reason());
    assertTrue(
        rejection
            .message()
            .startsWith(
                "source pod gpu-workload is the source of VfioMigration earlier "
                    + "(Succeeded), which moved its device state to pod gpu-target"),
        rejection.message());
  }

  @ParameterizedTest
  @CsvSource({"Stopped, true", "Running, false"})
  void aFailedMigrationHoldsItsSourceOnlyIfItStoppedItForGood(SourceState left, boolean refused) {
    VfioMigration earlier = migrationWith("\"transport\": \"Direct\"");
    earlier.getMetadata().setName("earlier");
    earlier.setStatus(new VfioMigrationStatus());
    earlier.getStatus().setPhase(MigrationPhase.Failed);
    earlier.getStatus().setSourcePodUid("uid-source");
    earlier.getStatus().setSourceState(left);

    var outcome =
        preflight.check(
            migrationWith("\"transport\": \"Direct\""),
            pods(target(true)),
            nodes(),
            snapshot -> null,
            () -> List.of(earlier),
            NOW);

    if (refused) {
      Rejection rejection =
          assertInstanceOf(MigrationPreflight.Rejected.class, outcome).rejection();
      assertEquals(Reason.SOURCE_STOPPED, rejection.reason());
      assertTrue(
          rejection.message().contains("failed after stopping its devices for good"),
          rejection.message());
    } else {
      assertInstanceOf(MigrationPreflight.Accepted.class, outcome);
    }
  }

  @Test
  void aLiveMigrationBetweenRunningPodsIsPlannedWithItsPairsAndExpectedSize() {
    var outcome =
        preflight.check(
            migrationWith("\"transport\": \"Direct\""),
            pods(target(true)),
            nodes(),
            snapshot -> null,
            List::of,
            NOW);

    MigrationPlan plan = assertInstanceOf(MigrationPreflight.Accepted.class, outcome).plan();
    assertEquals("node-a", plan.sourceNode());
    assertEquals("node-b", plan.targetNode());
    assertEquals(
        List.of("0000:3b:00.0>0000:af:00.0"),
        plan.pairs().stream().map(p -> p.getSource() + ">" + p.getTarget()).toList());
    assertEquals(4096, plan.expectedBytes());
    assertEquals(Duration.ofMinutes(10), plan.timeout());
  }

  @Test
  void aLiveMigrationIntoADeviceOfAnotherRevisionIsRefusedNamingTheField() {
    var outcome = liveBetween(fingerprint("a1", "1111"), fingerprint("a2", "1111"));

    Rejection rejection = assertInstanceOf(MigrationPreflight.Rejected.class, outcome).rejection();
    assertEquals(Reason.INCOMPATIBLE_DEVICES, rejection.reason());
    assertTrue(rejection.message().contains("differ in revision (a1 vs a2)"), rejection.message());
    assertTrue(
        rejection
            .message()
            .contains(
                "labelled compat.vfio.dev/"
                    + fingerprint("a1", "1111").getCompatibilityKey()
                    + "=true"),
        rejection.message());
  }

  @Test
  void aLiveMigrationBetweenDevicesOfOneKeyIsAcceptedWhateverTheirFlags() {
    DeviceFingerprint withP2p = fingerprint("a1", "1111");
    withP2p.setMigrationFlags(List.of("STOP_COPY", "P2P"));

    assertInstanceOf(
        MigrationPreflight.Accepted.class, liveBetween(withP2p, fingerprint("a1", "1111")));
  }

  @Test
  void aRestoreIntoADeviceOfAnotherSubsystemThanTheSnapshotRecordedIsRefused() {
    var outcome = restoreInto(fingerprint("a1", "1111"), fingerprint("a1", "2222"));

    Rejection rejection = assertInstanceOf(MigrationPreflight.Rejected.class, outcome).rejection();
    assertEquals(Reason.INCOMPATIBLE_DEVICES, rejection.reason());
    assertTrue(
        rejection.message().contains("differ in subsystemDeviceId (1111 vs 2222)"),
        rejection.message());
  }

  @Test
  void aRestoreIntoADeviceOfTheRecordedFingerprintIsAccepted() {
    assertInstanceOf(
        MigrationPreflight.Accepted.class,
        restoreInto(fingerprint("a1", "1111"), fingerprint("a1", "1111")));
  }

  @Test
  void aRestoreOfASnapshotSavedWithoutFingerprintsFallsBackToDriverAndIds() {
    assertInstanceOf(
        MigrationPreflight.Accepted.class, restoreInto(null, fingerprint("a2", "2222")));
  }

  private MigrationPreflight.Outcome liveBetween(DeviceFingerprint source, DeviceFingerprint into) {
    return preflight.check(
        migrationWith("\"transport\": \"Direct\""),
        pods(target(true)),
        fingerprinted(source, into),
        snapshot -> null,
        List::of,
        NOW);
  }

  /** From a snapshot whose device was saved with {@code recorded}. */
  private MigrationPreflight.Outcome restoreInto(
      DeviceFingerprint recorded, DeviceFingerprint into) {
    VfioSnapshot saved = snapshot(SnapshotPhase.Ready);
    saved.getStatus().getDevices().get(0).setFingerprint(recorded);
    VfioMigration migration = migrationWith("\"transport\": \"Storage\"");
    migration.getSpec().getSource().setPodName(null);
    migration.getSpec().getSource().setSnapshotName("nightly");
    return preflight.check(
        migration, pods(target(true)), fingerprinted(null, into), name -> saved, List::of, NOW);
  }

  @Test
  void aTargetThatDidNotOptInIsRefusedBeforeAnythingIsTouched() {
    var outcome =
        preflight.check(
            migrationWith("\"transport\": \"Auto\""),
            pods(target(false)),
            nodes(),
            snapshot -> null,
            List::of,
            NOW);

    assertEquals(
        Reason.TARGET_NOT_OPTED_IN,
        assertInstanceOf(MigrationPreflight.Rejected.class, outcome).rejection().reason());
  }

  @Test
  void aSourceThatIsTheTargetIsRefused() {
    VfioMigration migration = migrationWith("\"transport\": \"Auto\"");
    migration.getSpec().setTargetPodName("gpu-workload");
    Pod both = pod("gpu-workload", "uid-source", "node-a", true);

    var outcome =
        preflight.check(migration, name -> both, nodes(), snapshot -> null, List::of, NOW);

    var rejection = assertInstanceOf(MigrationPreflight.Rejected.class, outcome).rejection();
    assertEquals(Reason.INVALID_SPEC, rejection.reason());
    assertEquals("source and target are the same pod", rejection.message());
  }

  @Test
  void aRestoreIsPlannedFromTheSnapshotsClaimAndDirectory() {
    VfioMigration migration = migrationWith("\"transport\": \"Auto\"");
    migration.getSpec().getSource().setPodName(null);
    migration.getSpec().getSource().setSnapshotName("nightly");

    var outcome =
        preflight.check(
            migration,
            pods(target(true)),
            nodes(),
            name -> snapshot(SnapshotPhase.Ready),
            List::of,
            NOW);

    MigrationPlan plan = assertInstanceOf(MigrationPreflight.Accepted.class, outcome).plan();
    assertTrue(plan.fromSnapshot());
    assertEquals("vfio-snapshots", plan.snapshotClaim());
    assertEquals("default/nightly", plan.snapshotDirectory());
    assertEquals(8192, plan.expectedBytes());
  }

  @Test
  void aRestoreFromASnapshotThatIsNotReadyIsRefused() {
    VfioMigration migration = migrationWith("\"transport\": \"Storage\"");
    migration.getSpec().getSource().setPodName(null);
    migration.getSpec().getSource().setSnapshotName("nightly");

    var outcome =
        preflight.check(
            migration,
            pods(target(true)),
            nodes(),
            name -> snapshot(SnapshotPhase.Running),
            List::of,
            NOW);

    assertEquals(
        Reason.SNAPSHOT_NOT_READY,
        assertInstanceOf(MigrationPreflight.Rejected.class, outcome).rejection().reason());
  }

  @Test
  void aMigrationWithoutSpecIsRefusedAsInvalid() {
    VfioMigration migration = migrationWith("\"transport\": \"Auto\"");
    migration.setSpec(null);

    assertEquals(Reason.INVALID_SPEC, rejected(migration).reason());
  }

  @Test
  void aTargetTheInventoryDoesNotShowYetIsWaitedFor() {
    Pod young = target(true);
    young.getMetadata().setCreationTimestamp(NOW.toString());

    var outcome =
        preflight.check(
            migrationWith("\"transport\": \"Auto\""),
            pods(young),
            nodes(),
            snapshot -> null,
            List::of,
            NOW);

    assertEquals(
        Reason.WAITING_FOR_INVENTORY,
        assertInstanceOf(MigrationPreflight.Waiting.class, outcome).why().reason());
  }

  private static Pod target(boolean optedIn) {
    return pod("gpu-target", "uid-target", "node-b", optedIn);
  }

  private static Pod pod(String name, String uid, String node, boolean optedIn) {
    return new PodBuilder()
        .withNewMetadata()
        .withName(name)
        .withNamespace("default")
        .withUid(uid)
        .withCreationTimestamp(NOW.minusSeconds(600).toString())
        .withAnnotations(optedIn ? Map.of(PodAnnotations.RESTORE_TARGET, "true") : Map.of())
        .endMetadata()
        .withNewSpec()
        .withNodeName(node)
        .endSpec()
        .withNewStatus()
        .withPhase("Running")
        .endStatus()
        .build();
  }

  /** The source gpu-workload on node-a and {@code target}. */
  private static Function<String, Pod> pods(Pod target) {
    Pod source = pod("gpu-workload", "uid-source", "node-a", false);
    return name ->
        name.equals("gpu-workload")
            ? source
            : name.equals(target.getMetadata().getName()) ? target : null;
  }

  /** node-a holding 0000:3b:00.0 for the source, node-b holding 0000:af:00.0 for the target. */
  private static Function<String, VfioNode> nodes() {
    Map<String, VfioNode> nodes =
        Map.of(
            "node-a",
            node("node-a", "0000:3b:00.0", "uid-source"),
            "node-b",
            node("node-b", "0000:af:00.0", "uid-target"));
    return nodes::get;
  }

  private static VfioNode node(String name, String address, String holderUid) {
    VfioNode node = new VfioNode();
    node.setMetadata(new ObjectMetaBuilder().withName(name).build());
    VfioNodeStatus status = new VfioNodeStatus();
    status.setHeartbeatTime(NOW.minusSeconds(5).toString());
    status.setConditions(
        List.of(new Condition(Conditions.READY, Condition.TRUE, "AgentReady", "ok")));
    NodeDevice device = new NodeDevice();
    device.setAddress(address);
    device.setDriver("vfio-pci");
    device.setVendorId("10de");
    device.setDeviceId("20b5");
    device.setMigrationFlags(List.of("STOP_COPY"));
    device.setStateSizeBytes(4096L);
    PodReference holder = new PodReference();
    holder.setUid(holderUid);
    device.setHolder(holder);
    status.setDevices(List.of(device));
    node.setStatus(status);
    return node;
  }

  /** The devices of {@link #nodes}, with these fingerprints ({@code null}: none published). */
  private static Function<String, VfioNode> fingerprinted(
      DeviceFingerprint source, DeviceFingerprint target) {
    Function<String, VfioNode> nodes = nodes();
    VfioNode a = nodes.apply("node-a");
    VfioNode b = nodes.apply("node-b");
    a.getStatus().getDevices().get(0).setFingerprint(source);
    b.getStatus().getDevices().get(0).setFingerprint(target);
    return name -> name.equals("node-a") ? a : name.equals("node-b") ? b : null;
  }

  /** The devices of these tests, differing in revision or subsystem device id. */
  private static DeviceFingerprint fingerprint(String revision, String subsystemDeviceId) {
    return DeviceFingerprint.of(
        "vfio-pci",
        "10de",
        "20b5",
        "10de",
        subsystemDeviceId,
        revision,
        null,
        List.of("STOP_COPY"),
        null);
  }

  private static VfioSnapshot snapshot(SnapshotPhase phase) {
    VfioSnapshot snapshot = new VfioSnapshot();
    snapshot.setMetadata(
        new ObjectMetaBuilder().withName("nightly").withNamespace("default").build());
    snapshot.setSpec(new VfioSnapshotSpec());
    VfioSnapshotStatus status = new VfioSnapshotStatus();
    status.setPhase(phase);
    DeviceResult device = new DeviceResult();
    device.setAddress("0000:3b:00.0");
    device.setDriver("vfio-pci");
    device.setVendorId("10de");
    device.setDeviceId("20b5");
    device.setMigrationFlags(List.of("STOP_COPY"));
    status.setDevices(List.of(device));
    status.setTotalBytes(8192L);
    snapshot.setStatus(status);
    return snapshot;
  }

  /** Refused before any pod, node or snapshot is looked up: none exists here. */
  private Rejection rejected(VfioMigration migration) {
    var outcome =
        preflight.check(migration, pod -> null, node -> null, snapshot -> null, List::of, NOW);
    return assertInstanceOf(MigrationPreflight.Rejected.class, outcome).rejection();
  }

  /**
   * gpu-workload into gpu-target as the API server stores it, with {@code json} besides: a field or
   * value only a newer CRD has, or one this operator knows.
   */
  private static VfioMigration migrationWith(String json) {
    return Serialization.unmarshal(
        """
        {"apiVersion": "vfio.dev/v1alpha1", "kind": "VfioMigration",
         "metadata": {"name": "mig", "namespace": "default"},
         "spec": {"source": {"podName": "gpu-workload"}, "targetPodName": "gpu-target", %s}}
        """
            .formatted(json),
        VfioMigration.class);
  }
}
