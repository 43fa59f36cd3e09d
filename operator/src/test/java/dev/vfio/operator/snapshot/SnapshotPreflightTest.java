package dev.vfio.operator.snapshot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vfio.api.v1alpha1.Condition;
import dev.vfio.api.v1alpha1.Conditions;
import dev.vfio.api.v1alpha1.MigrationPhase;
import dev.vfio.api.v1alpha1.NodeDevice;
import dev.vfio.api.v1alpha1.PodReference;
import dev.vfio.api.v1alpha1.Reason;
import dev.vfio.api.v1alpha1.StorageClaimStatus;
import dev.vfio.api.v1alpha1.VfioMigration;
import dev.vfio.api.v1alpha1.VfioNode;
import dev.vfio.api.v1alpha1.VfioNodeStatus;
import dev.vfio.api.v1alpha1.VfioSnapshot;
import dev.vfio.api.v1alpha1.VfioSnapshotSpec;
import dev.vfio.operator.config.OperatorConfig;
import dev.vfio.operator.preflight.Rejection;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class SnapshotPreflightTest {
  static final Instant NOW = Instant.parse("2026-11-27T12:00:00Z");
  final SnapshotPreflight preflight =
      new SnapshotPreflight(
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
  void podWithMigratableDevicesIsAcceptedWithAllItsDevices() {
    var outcome =
        check(snapshot(spec -> {}), pod("Running"), node(NOW.minusSeconds(5), "STOP_COPY"));

    SnapshotPlan plan = assertInstanceOf(SnapshotPreflight.Accepted.class, outcome).plan();
    assertEquals("node-a", plan.nodeName());
    assertEquals(
        List.of("0000:3b:00.0"), plan.devices().stream().map(NodeDevice::getAddress).toList());
    assertEquals("vfio-snapshots", plan.storageClaim());
    assertEquals(Duration.ofMinutes(10), plan.timeout());
  }

  @ParameterizedTest
  @EnumSource(
      value = MigrationPhase.class,
      names = {"Running", "Succeeded"})
  void aPodAMigrationLeftStoppedIsRefusedNamingTheMigration(MigrationPhase phase) {
    var outcome =
        preflight.check(
            snapshot(spec -> {}),
            name -> pod("Running"),
            name -> node(NOW.minusSeconds(5), "STOP_COPY"),
            () -> List.of(migrationFrom("uid-1", phase)),
            NOW);

    Rejection rejection = assertInstanceOf(SnapshotPreflight.Rejected.class, outcome).rejection();
    assertEquals(Reason.SOURCE_STOPPED, rejection.reason());
    assertTrue(
        rejection.message().contains("VfioMigration move-away (" + phase + ")"),
        rejection.message());
  }

  @Test
  void aPodWhoseMigrationFailedOrThatWasOnlyItsTargetIsAccepted() {
    var outcome =
        preflight.check(
            snapshot(spec -> {}),
            name -> pod("Running"),
            name -> node(NOW.minusSeconds(5), "STOP_COPY"),
            () ->
                List.of(
                    migrationFrom("uid-1", MigrationPhase.Failed),
                    migrationFrom("uid-other", MigrationPhase.Succeeded)),
            NOW);

    assertInstanceOf(SnapshotPreflight.Accepted.class, outcome);
  }

  /** A migration {@code move-away} of the pod with UID {@code sourceUid}, now in {@code phase}. */
  private static VfioMigration migrationFrom(String sourceUid, MigrationPhase phase) {
    return Serialization.unmarshal(
        """
        {"apiVersion": "vfio.dev/v1alpha1", "kind": "VfioMigration",
         "metadata": {"name": "move-away", "namespace": "default"},
         "spec": {"source": {"podName": "gpu-workload"}, "targetPodName": "gpu-target", "transport": "Storage"},
         "status": {"phase": "%s", "sourcePodUid": "%s"}}
        """
            .formatted(phase, sourceUid),
        VfioMigration.class);
  }

  @Test
  void inventoryOlderThanThePodIsWaitedForNotRefused() {
    var outcome =
        check(snapshot(spec -> {}), pod("Running"), node(NOW.minusSeconds(120), "STOP_COPY"));

    // Heartbeat 120s old is also past the 60s heartbeat timeout: readiness is decided first.
    assertEquals(
        Reason.AGENT_NOT_READY,
        assertInstanceOf(SnapshotPreflight.Rejected.class, outcome).rejection().reason());

    Pod young = pod("Running");
    young.getMetadata().setCreationTimestamp(NOW.minusSeconds(1).toString());
    var waiting = check(snapshot(spec -> {}), young, node(NOW.minusSeconds(5), "STOP_COPY"));
    assertEquals(
        Reason.WAITING_FOR_INVENTORY,
        assertInstanceOf(SnapshotPreflight.Waiting.class, waiting).why().reason());
  }

  @Test
  void deviceWithoutStopCopyIsRefusedAsNotMigratable() {
    var outcome = check(snapshot(spec -> {}), pod("Running"), node(NOW.minusSeconds(5)));

    assertEquals(
        Reason.DEVICE_NOT_MIGRATABLE,
        assertInstanceOf(SnapshotPreflight.Rejected.class, outcome).rejection().reason());
  }

  @Test
  void twoDevicesOfWhichOneHasNoP2pAreRefusedAndOneOfThemAloneIsAccepted() {
    VfioNode node = node(NOW.minusSeconds(5), "STOP_COPY", "P2P");
    NodeDevice second = new NodeDevice();
    second.setAddress("0000:3b:00.1");
    second.setDriver("vfio-pci");
    second.setMigrationFlags(List.of("STOP_COPY"));
    second.setHolder(node.getStatus().getDevices().get(0).getHolder());
    node.getStatus().setDevices(List.of(node.getStatus().getDevices().get(0), second));

    var rejection =
        assertInstanceOf(
                SnapshotPreflight.Rejected.class, check(snapshot(spec -> {}), pod("Running"), node))
            .rejection();
    assertEquals(Reason.DEVICE_NOT_MIGRATABLE, rejection.reason());
    assertEquals(true, rejection.message().contains("[0000:3b:00.1] have no P2P"));

    var alone =
        check(snapshot(spec -> spec.setDevices(List.of("0000:3b:00.1"))), pod("Running"), node);
    assertInstanceOf(SnapshotPreflight.Accepted.class, alone);
  }

  @Test
  void agentReportingNotReadyIsRefused() {
    VfioNode node = node(NOW.minusSeconds(5), "STOP_COPY");
    node.getStatus()
        .setConditions(
            List.of(
                new Condition(
                    Conditions.READY, Condition.FALSE, "InventoryFailed", "sysfs unreadable")));

    var outcome = check(snapshot(spec -> {}), pod("Running"), node);

    var rejection = assertInstanceOf(SnapshotPreflight.Rejected.class, outcome).rejection();
    assertEquals(Reason.AGENT_NOT_READY, rejection.reason());
    assertEquals(true, rejection.message().contains("sysfs unreadable"));
  }

  @Test
  void badDurationIsRefusedAsInvalidSpec() {
    var outcome =
        check(
            snapshot(spec -> spec.setTimeout("ten minutes")),
            pod("Running"),
            node(NOW, "STOP_COPY"));

    assertEquals(
        Reason.INVALID_SPEC,
        assertInstanceOf(SnapshotPreflight.Rejected.class, outcome).rejection().reason());
  }

  @Test
  void aDurationPastItsMaximumIsRefusedNamingTheField() {
    var outcome =
        check(
            snapshot(spec -> spec.setTtl("10000000000000h")),
            pod("Running"),
            node(NOW, "STOP_COPY"));

    var rejection = assertInstanceOf(SnapshotPreflight.Rejected.class, outcome).rejection();
    assertEquals(Reason.INVALID_SPEC, rejection.reason());
    assertEquals(
        "spec.ttl '10000000000000h' is longer than the maximum of 87600h", rejection.message());
  }

  @Test
  void aValueThisOperatorDoesNotKnowIsRefusedNamingTheFieldAndTheValue() {
    var outcome =
        check(fromANewerCrd("\"compression\": \"Gzip\""), pod("Running"), node(NOW, "STOP_COPY"));

    var rejection = assertInstanceOf(SnapshotPreflight.Rejected.class, outcome).rejection();
    assertEquals(Reason.INVALID_SPEC, rejection.reason());
    assertEquals(
        "spec.compression: \"Gzip\" is not a value this operator knows (None, Zstd); the CRD may be "
            + "newer than the operator: upgrade the operator, or keep to the fields and values it knows",
        rejection.message());
  }

  @Test
  void aFieldThisOperatorDoesNotKnowIsRefusedRatherThanIgnored() {
    var outcome = check(fromANewerCrd("\"verify\": true"), pod("Running"), node(NOW, "STOP_COPY"));

    var rejection = assertInstanceOf(SnapshotPreflight.Rejected.class, outcome).rejection();
    assertEquals(Reason.INVALID_SPEC, rejection.reason());
    assertTrue(
        rejection.message().startsWith("spec.verify is not a field this operator knows;"),
        rejection.message());
  }

  @Test
  void aNestedFieldThisOperatorDoesNotKnowIsRefusedWithItsPath() {
    var outcome =
        check(
            fromANewerCrd("\"precopy\": {\"maxRounds\": 3, \"adaptive\": true}"),
            pod("Running"),
            node(NOW, "STOP_COPY"));

    var rejection = assertInstanceOf(SnapshotPreflight.Rejected.class, outcome).rejection();
    assertEquals(Reason.INVALID_SPEC, rejection.reason());
    assertTrue(
        rejection.message().startsWith("spec.precopy.adaptive is not a field this operator knows;"),
        rejection.message());
  }

  @Test
  void aPodThatDoesNotRunIsRefused() {
    var outcome = check(snapshot(spec -> {}), pod("Pending"), node(NOW, "STOP_COPY"));

    assertEquals(
        Reason.POD_NOT_RUNNING,
        assertInstanceOf(SnapshotPreflight.Rejected.class, outcome).rejection().reason());
  }

  @Test
  void aDeviceThePodDoesNotHoldIsRefusedListingTheOnesItHolds() {
    var outcome =
        check(
            snapshot(spec -> spec.setDevices(List.of("0000:3c:00.0"))),
            pod("Running"),
            node(NOW, "STOP_COPY"));

    var rejection = assertInstanceOf(SnapshotPreflight.Rejected.class, outcome).rejection();
    assertEquals(Reason.DEVICE_NOT_HELD, rejection.reason());
    assertTrue(rejection.message().contains("it holds [0000:3b:00.0]"), rejection.message());
  }

  @Test
  void aClaimTheAgentDoesNotMountIsRefusedNamingTheOnesItDoes() {
    var outcome =
        check(
            snapshot(spec -> spec.setStorageClaim("elsewhere")),
            pod("Running"),
            node(NOW, "STOP_COPY"));

    var rejection = assertInstanceOf(SnapshotPreflight.Rejected.class, outcome).rejection();
    assertEquals(Reason.STORAGE_CLAIM_UNKNOWN, rejection.reason());
    assertTrue(rejection.message().contains("[vfio-snapshots]"), rejection.message());
  }

  /**
   * A snapshot as the API server stores it under a newer CRD: a valid spec with {@code json}
   * besides.
   */
  private static VfioSnapshot fromANewerCrd(String json) {
    return Serialization.unmarshal(
        """
        {"apiVersion": "vfio.dev/v1alpha1", "kind": "VfioSnapshot",
         "metadata": {"name": "snap", "namespace": "default"},
         "spec": {"podName": "gpu-workload", %s}}
        """
            .formatted(json),
        VfioSnapshot.class);
  }

  private SnapshotPreflight.Outcome check(VfioSnapshot snapshot, Pod pod, VfioNode node) {
    return preflight.check(
        snapshot,
        name -> name.equals("gpu-workload") ? pod : null,
        name -> name.equals("node-a") ? node : null,
        List::of,
        NOW);
  }

  private static VfioSnapshot snapshot(java.util.function.Consumer<VfioSnapshotSpec> customize) {
    VfioSnapshot snapshot = new VfioSnapshot();
    snapshot.setMetadata(new ObjectMetaBuilder().withName("snap").withNamespace("default").build());
    VfioSnapshotSpec spec = new VfioSnapshotSpec();
    spec.setPodName("gpu-workload");
    customize.accept(spec);
    snapshot.setSpec(spec);
    return snapshot;
  }

  private static Pod pod(String phase) {
    return new PodBuilder()
        .withNewMetadata()
        .withName("gpu-workload")
        .withNamespace("default")
        .withUid("uid-1")
        .withCreationTimestamp(NOW.minusSeconds(600).toString())
        .endMetadata()
        .withNewSpec()
        .withNodeName("node-a")
        .endSpec()
        .withNewStatus()
        .withPhase(phase)
        .endStatus()
        .build();
  }

  private static VfioNode node(Instant heartbeat, String... flags) {
    VfioNode node = new VfioNode();
    node.setMetadata(new ObjectMetaBuilder().withName("node-a").build());
    VfioNodeStatus status = new VfioNodeStatus();
    status.setHeartbeatTime(heartbeat.toString());
    status.setConditions(
        List.of(new Condition(Conditions.READY, Condition.TRUE, "AgentReady", "ok")));
    NodeDevice device = new NodeDevice();
    device.setAddress("0000:3b:00.0");
    device.setDriver("vfio-pci");
    device.setMigrationFlags(List.of(flags));
    PodReference holder = new PodReference();
    holder.setUid("uid-1");
    device.setHolder(holder);
    status.setDevices(List.of(device));
    StorageClaimStatus claim = new StorageClaimStatus();
    claim.setName("vfio-snapshots");
    status.setStorage(List.of(claim));
    node.setStatus(status);
    return node;
  }
}
