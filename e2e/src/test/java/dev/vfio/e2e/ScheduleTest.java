package dev.vfio.e2e;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vfio.api.v1alpha1.Conditions;
import dev.vfio.api.v1alpha1.Reason;
import dev.vfio.api.v1alpha1.RetentionSpec;
import dev.vfio.api.v1alpha1.SnapshotPhase;
import dev.vfio.api.v1alpha1.SnapshotsOnDeletion;
import dev.vfio.api.v1alpha1.VfioSnapshot;
import dev.vfio.api.v1alpha1.VfioSnapshotSchedule;
import dev.vfio.api.v1alpha1.VfioSnapshotScheduleSpec;
import dev.vfio.api.v1alpha1.VfioSnapshotSpec;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * VfioSnapshotSchedules on the real API server: the schema and CEL rules of the kind, and a
 * schedule that runs every minute, keeps one snapshot and takes it along when it is deleted. A
 * minute-granular cron makes the run test take two to three minutes.
 */
class ScheduleTest extends ClusterTest {
  /** Two runs a minute apart, each saved and then pruned. */
  static final Duration TWO_RUNS = Duration.ofMinutes(3);

  @BeforeAll
  static void start(@TempDir Path work) throws Exception {
    startCluster(
        work,
        List.of(SimulatedNode.Device.of("0000:3b:00.0", 1 << 20)),
        List.of(SimulatedNode.Device.of("0000:af:00.0", 1 << 20)));
  }

  @Test
  void aScheduleTakesASnapshotEachRunKeepsTheNewestAndTakesItAlongWhenDeleted() {
    cluster.runningPod(NS, "scheduled-workload", "node-a", "0000:3b:00.0");
    createSchedule(
        "every-minute",
        "* * * * *",
        spec -> {
          RetentionSpec retention = new RetentionSpec();
          retention.setKeepLast(1);
          spec.setRetention(retention);
          spec.setSnapshotsOnDeletion(SnapshotsOnDeletion.Delete);
        });

    String first = awaitNextSnapshot("every-minute", null);
    awaitPhase(first, SnapshotPhase.Ready, TWO_RUNS);
    String second = awaitNextSnapshot("every-minute", first);
    awaitPhase(second, SnapshotPhase.Ready, TWO_RUNS);
    await("the first snapshot pruned (keepLast 1)")
        .atMost(PATIENCE)
        .until(() -> cluster.snapshot(NS, first) == null);
    await("the schedule counts one snapshot")
        .atMost(PATIENCE)
        .until(
            () ->
                Integer.valueOf(1).equals(schedule("every-minute").getStatus().getSnapshotCount()));
    VfioSnapshotSchedule running = schedule("every-minute");
    assertEquals(
        "every-minute",
        cluster
            .snapshot(NS, second)
            .getMetadata()
            .getLabels()
            .get(VfioSnapshotSchedule.SCHEDULE_LABEL));
    assertTrue(running.getStatus().getNextScheduleTime() != null, "the next run is shown");
    assertEquals(
        Reason.SCHEDULED.wire(),
        Conditions.find(running.getStatus().getConditions(), Conditions.READY).getReason());

    client.resource(running).delete();

    await("the schedule and, with snapshotsOnDeletion Delete, its snapshot gone")
        .atMost(PATIENCE)
        .until(() -> schedule("every-minute") == null && cluster.snapshot(NS, second) == null);
  }

  @Test
  void theApiServerRefusesALongNameAndAChangedTemplateAndTheOperatorAnInvalidSchedule() {
    KubernetesClientException longName =
        assertThrows(
            KubernetesClientException.class,
            () -> createSchedule("n".repeat(VfioSnapshotSchedule.MAX_NAME + 1), "@daily", s -> {}));
    assertTrue(
        longName.getMessage().contains("metadata.name must be at most 50 characters"),
        longName.getMessage());

    createSchedule("daily", "@daily", s -> {});
    // Merge patches, as kubectl patch sends them: no resourceVersion to race the operator's writes.
    KubernetesClientException immutable =
        assertThrows(
            KubernetesClientException.class,
            () ->
                client
                    .resource(schedule("daily"))
                    .patch(
                        PatchContext.of(PatchType.JSON_MERGE),
                        "{\"spec\":{\"template\":{\"podName\":\"another-pod\"}}}"));
    assertTrue(immutable.getMessage().contains("immutable"), immutable.getMessage());
    client
        .resource(schedule("daily"))
        .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"spec\":{\"suspend\":true}}");
    await("the suspended schedule reads Suspended")
        .atMost(PATIENCE)
        .until(() -> reason("daily").equals(Reason.SUSPENDED.wire()));

    createSchedule("not-cron", "every night", s -> {});
    await("a schedule that is not cron reads InvalidSpec")
        .atMost(PATIENCE)
        .until(() -> reason("not-cron").equals(Reason.INVALID_SPEC.wire()));
  }

  /** The name of the schedule's newest snapshot once it is not {@code previous}. */
  private static String awaitNextSnapshot(String schedule, String previous) {
    await(schedule + " takes a snapshot")
        .atMost(TWO_RUNS)
        .pollInterval(Duration.ofMillis(500))
        .until(
            () -> {
              VfioSnapshotSchedule current = schedule(schedule);
              String last =
                  current.getStatus() == null ? null : current.getStatus().getLastSnapshotName();
              return last != null && !last.equals(previous);
            });
    String name = schedule(schedule).getStatus().getLastSnapshotName();
    assertNotEquals(previous, name);
    VfioSnapshot snapshot = cluster.snapshot(NS, name);
    assertEquals("scheduled-workload", snapshot.getSpec().getPodName());
    return name;
  }

  private static String reason(String name) {
    VfioSnapshotSchedule schedule = schedule(name);
    if (schedule == null || schedule.getStatus() == null) {
      return "";
    }
    var ready = Conditions.find(schedule.getStatus().getConditions(), Conditions.READY);
    return ready == null ? "" : ready.getReason();
  }

  private static VfioSnapshotSchedule schedule(String name) {
    return client.resources(VfioSnapshotSchedule.class).inNamespace(NS).withName(name).get();
  }

  private static void createSchedule(
      String name, String cron, Consumer<VfioSnapshotScheduleSpec> customize) {
    VfioSnapshotSchedule schedule = new VfioSnapshotSchedule();
    schedule.setMetadata(new ObjectMetaBuilder().withNamespace(NS).withName(name).build());
    VfioSnapshotScheduleSpec spec = new VfioSnapshotScheduleSpec();
    spec.setSchedule(cron);
    VfioSnapshotSpec template = new VfioSnapshotSpec();
    template.setPodName("scheduled-workload");
    spec.setTemplate(template);
    customize.accept(spec);
    schedule.setSpec(spec);
    client.resource(schedule).create();
  }
}
