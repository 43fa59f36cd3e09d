package dev.vfio.e2e;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vfio.api.v1alpha1.Condition;
import dev.vfio.api.v1alpha1.Conditions;
import dev.vfio.api.v1alpha1.Reason;
import dev.vfio.api.v1alpha1.SnapshotPhase;
import dev.vfio.api.v1alpha1.VfioNode;
import dev.vfio.api.v1alpha1.VfioNodeStatus;
import dev.vfio.api.v1alpha1.VfioNodeTask;
import dev.vfio.api.v1alpha1.VfioSnapshot;
import dev.vfio.api.v1alpha1.VfioSnapshotSpec;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every bad input ends Failed with its own reason and a message that says what to do; nothing is
 * touched.
 */
class SnapshotRejectionTest extends ClusterTest {
  static final String HELD = "0000:3b:00.0";
  static final String NOT_MIGRATABLE = "0000:5e:00.0";

  @BeforeAll
  static void start(@TempDir Path work) throws Exception {
    startCluster(
        work,
        List.of(
            SimulatedNode.Device.of(HELD, 1 << 20),
            SimulatedNode.Device.of(NOT_MIGRATABLE, 1 << 20).with("flags", List.of())),
        List.of(SimulatedNode.Device.of("0000:af:00.0", 1 << 20)));
    cluster.runningPod(NS, "workload", "node-a", HELD);
    cluster.runningPod(NS, "plain-pod", "node-a");
    cluster.runningPod(NS, "nic-pod", "node-a", NOT_MIGRATABLE);
  }

  @Test
  void snapshotOfMissingPodFailsWithPodNotFound() {
    assertRejected(
        "missing-pod", "no-such-pod", spec -> {}, Reason.POD_NOT_FOUND.wire(), "does not exist");
  }

  @Test
  void snapshotOfPendingPodFailsWithPodNotRunning() {
    Pod pod = cluster.runningPod(NS, "pending-pod", "node-a");
    pod.getStatus().setPhase("Pending");
    client.resource(pod).updateStatus();
    assertRejected(
        "pending", "pending-pod", spec -> {}, Reason.POD_NOT_RUNNING.wire(), "not Running");
  }

  @Test
  void snapshotOfUnscheduledPodFailsWithPodNotScheduled() {
    // Created without a node and never bound: as the scheduler leaves a pod it cannot place.
    client
        .resource(
            new PodBuilder()
                .withNewMetadata()
                .withNamespace(NS)
                .withName("unscheduled-pod")
                .endMetadata()
                .withNewSpec()
                .addNewContainer()
                .withName("workload")
                .withImage("registry.example/gpu-workload:1")
                .endContainer()
                .endSpec()
                .build())
        .create();
    assertRejected(
        "unscheduled",
        "unscheduled-pod",
        spec -> {},
        Reason.POD_NOT_SCHEDULED.wire(),
        "not scheduled");
  }

  @Test
  void snapshotOfPodWithoutDevicesFailsWithNoVfioDevices() {
    assertRejected(
        "no-devices",
        "plain-pod",
        spec -> {},
        Reason.NO_VFIO_DEVICES.wire(),
        "holds no VFIO devices");
  }

  @Test
  void snapshotOfDeviceThePodDoesNotHoldFailsWithDeviceNotHeld() {
    assertRejected(
        "not-held",
        "workload",
        spec -> spec.setDevices(List.of("0000:3b:00.1")),
        Reason.DEVICE_NOT_HELD.wire(),
        "does not hold device 0000:3b:00.1");
  }

  @Test
  void snapshotOfDeviceWithoutMigrationSupportFailsWithDeviceNotMigratable() {
    assertRejected(
        "not-migratable",
        "nic-pod",
        spec -> {},
        Reason.DEVICE_NOT_MIGRATABLE.wire(),
        NOT_MIGRATABLE);
  }

  @Test
  void snapshotToUnknownClaimFailsWithStorageClaimUnknown() {
    assertRejected(
        "unknown-claim",
        "workload",
        spec -> spec.setStorageClaim("elsewhere"),
        Reason.STORAGE_CLAIM_UNKNOWN.wire(),
        "elsewhere");
  }

  @Test
  void snapshotWithHooksIsRefusedRatherThanTakenWithoutThem() {
    dev.vfio.api.v1alpha1.ExecHook flush = new dev.vfio.api.v1alpha1.ExecHook();
    flush.setContainer("workload");
    flush.setCommand(List.of("sync"));
    dev.vfio.api.v1alpha1.HooksSpec hooks = new dev.vfio.api.v1alpha1.HooksSpec();
    hooks.setPre(List.of(flush));
    assertRejected(
        "with-hooks",
        "workload",
        spec -> spec.setHooks(hooks),
        Reason.INVALID_SPEC.wire(),
        "hooks");
  }

  @Test
  void snapshotOnNodeWithoutAgentFailsWithNoAgent() {
    cluster.runningPod(NS, "orphan-pod", "node-without-agent", HELD);
    assertRejected(
        "no-agent", "orphan-pod", spec -> {}, Reason.NO_AGENT.wire(), "node-without-agent");
  }

  @Test
  void snapshotOnNodeWhoseAgentStoppedReportingFailsWithAgentNotReady() {
    VfioNode stale = new VfioNode();
    stale.setMetadata(new ObjectMetaBuilder().withName("node-stale").build());
    stale = client.resource(stale).create();
    VfioNodeStatus status = new VfioNodeStatus();
    status.setHeartbeatTime(Instant.now().minusSeconds(3600).toString());
    status.setConditions(
        List.of(new Condition(Conditions.READY, Condition.TRUE, "AgentReady", "was fine")));
    stale.setStatus(status);
    client.resource(stale).updateStatus();
    cluster.runningPod(NS, "stale-pod", "node-stale", HELD);
    assertRejected(
        "agent-stale", "stale-pod", spec -> {}, Reason.AGENT_NOT_READY.wire(), "heartbeat");
  }

  private void assertRejected(
      String name, String pod, Consumer<VfioSnapshotSpec> spec, String reason, String hint) {
    createSnapshot(name, pod, spec);
    VfioSnapshot failed = awaitPhase(name, SnapshotPhase.Failed);
    Condition ready = readyCondition(failed);
    assertEquals(Condition.FALSE, ready.getStatus());
    assertEquals(reason, ready.getReason());
    assertTrue(ready.getMessage().contains(hint), ready.getMessage());
    assertTrue(
        client.resources(VfioNodeTask.class).inNamespace(NS).list().getItems().stream()
            .noneMatch(task -> task.getMetadata().getName().startsWith(name + "-")),
        "no task was created");
    assertEquals("RUNNING", device("node-a", HELD).getMigrationState());
    // The operator records the Event once the status is stored: it may come a moment later.
    await("a Warning event names the reason")
        .atMost(PATIENCE)
        .until(
            () ->
                client.v1().events().inNamespace(NS).list().getItems().stream()
                    .filter(e -> name.equals(e.getInvolvedObject().getName()))
                    .anyMatch(e -> "Warning".equals(e.getType()) && reason.equals(e.getReason())));
  }
}
