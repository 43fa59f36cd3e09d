package dev.vfio.operator.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vfio.api.v1alpha1.ConcurrencyPolicy;
import dev.vfio.api.v1alpha1.Condition;
import dev.vfio.api.v1alpha1.Conditions;
import dev.vfio.api.v1alpha1.Reason;
import dev.vfio.api.v1alpha1.RetentionSpec;
import dev.vfio.api.v1alpha1.SnapshotPhase;
import dev.vfio.api.v1alpha1.SnapshotsOnDeletion;
import dev.vfio.api.v1alpha1.VfioSnapshot;
import dev.vfio.api.v1alpha1.VfioSnapshotSchedule;
import dev.vfio.api.v1alpha1.VfioSnapshotScheduleSpec;
import dev.vfio.api.v1alpha1.VfioSnapshotScheduleStatus;
import dev.vfio.api.v1alpha1.VfioSnapshotSpec;
import dev.vfio.api.v1alpha1.VfioSnapshotStatus;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import java.io.InputStream;
import java.lang.reflect.Proxy;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

@EnableKubernetesMockClient(crud = true)
class VfioSnapshotScheduleReconcilerTest {
  static final Instant NOW = Instant.parse("2026-12-07T10:15:00Z");

  KubernetesClient client;

  @BeforeEach
  void installCrds() throws Exception {
    for (String crd : List.of("vfiosnapshots", "vfiosnapshotschedules")) {
      try (InputStream manifest =
          getClass().getResourceAsStream("/vfio-crds/" + crd + ".vfio.dev.yaml")) {
        client.resource(Serialization.unmarshal(manifest, CustomResourceDefinition.class)).create();
      }
    }
  }

  @Test
  void aDueRunTakesASnapshotFromTheTemplateNamedAfterTheRun() {
    VfioSnapshotSchedule schedule = schedule("*/15 * * * *", "2026-12-07T10:00:00Z", s -> {});

    UpdateControl<VfioSnapshotSchedule> control = reconcileAt(NOW, schedule);

    VfioSnapshot taken = snapshot("nightly-202612071015");
    assertNotNull(taken, "snapshot for the 10:15 run");
    assertEquals("gpu-workload", taken.getSpec().getPodName());
    assertEquals(
        "nightly", taken.getMetadata().getLabels().get(VfioSnapshotSchedule.SCHEDULE_LABEL));
    assertEquals(
        "2026-12-07T10:15:00Z",
        taken.getMetadata().getAnnotations().get(VfioSnapshotSchedule.SCHEDULED_TIME_ANNOTATION));
    VfioSnapshotScheduleStatus status = stored().getStatus();
    assertEquals("2026-12-07T10:15:00Z", status.getLastScheduleTime());
    assertEquals("nightly-202612071015", status.getLastSnapshotName());
    assertEquals("2026-12-07T10:30:00Z", status.getNextScheduleTime());
    assertEquals(List.of("nightly-202612071015"), status.getActive());
    assertEquals(1, status.getSnapshotCount());
    assertEquals(Reason.SCHEDULED.wire(), ready().getReason());
    assertEquals(Duration.ofMinutes(5), control.getScheduleDelay().map(Duration::ofMillis).get());
  }

  @Test
  void anOperatorThatWasDownAcrossSeveralRunsTakesOnlyTheLatest() {
    VfioSnapshotSchedule schedule = schedule("*/15 * * * *", "2026-12-07T09:00:00Z", s -> {});

    reconcileAt(NOW, schedule);

    assertEquals(
        List.of("nightly-202612071015"),
        snapshots().stream().map(s -> s.getMetadata().getName()).toList());
  }

  @Test
  void aRunNotYetDueTakesNothingAndWaitsForTheNextRun() {
    VfioSnapshotSchedule schedule = schedule("0 3 * * *", "2026-12-07T03:00:00Z", s -> {});

    reconcileAt(NOW, schedule);

    assertEquals(List.of(), snapshots());
    assertEquals("2026-12-08T03:00:00Z", stored().getStatus().getNextScheduleTime());
    assertEquals("2026-12-07T03:00:00Z", stored().getStatus().getLastScheduleTime());
  }

  @Test
  void aNewScheduleTakesNoRunFromBeforeItExisted() {
    VfioSnapshotSchedule schedule = schedule("* * * * *", null, s -> {});
    Instant created = Instant.parse(schedule.getMetadata().getCreationTimestamp());

    reconcileAt(created, schedule);

    assertEquals(List.of(), snapshots());
  }

  @Test
  void withForbidARunIsSkippedWhileThePreviousSnapshotHasNotEnded() {
    VfioSnapshotSchedule schedule = schedule("*/15 * * * *", "2026-12-07T10:00:00Z", s -> {});
    reconcileAt(NOW, schedule);

    reconcileAt(NOW.plus(Duration.ofMinutes(15)), stored());

    assertNull(snapshot("nightly-202612071030"));
    assertEquals(Reason.RUN_SKIPPED.wire(), ready().getReason());
    assertTrue(
        ready().getMessage().contains("nightly-202612071015 has not ended"), ready().getMessage());
    assertEquals("2026-12-07T10:30:00Z", stored().getStatus().getLastScheduleTime());
  }

  @Test
  void withAllowARunIsTakenWhileThePreviousSnapshotHasNotEnded() {
    VfioSnapshotSchedule schedule =
        schedule(
            "*/15 * * * *",
            "2026-12-07T10:00:00Z",
            s -> s.setConcurrencyPolicy(ConcurrencyPolicy.Allow));
    reconcileAt(NOW, schedule);

    reconcileAt(NOW.plus(Duration.ofMinutes(15)), stored());

    assertNotNull(snapshot("nightly-202612071030"));
    assertEquals(
        List.of("nightly-202612071015", "nightly-202612071030"), stored().getStatus().getActive());
  }

  @Test
  void aSuspendedScheduleTakesNothingAndShowsNoNextRun() {
    VfioSnapshotSchedule schedule =
        schedule("*/15 * * * *", "2026-12-07T10:00:00Z", s -> s.setSuspend(true));

    reconcileAt(NOW, schedule);

    assertEquals(List.of(), snapshots());
    assertNull(stored().getStatus().getNextScheduleTime());
    assertEquals("2026-12-07T10:15:00Z", stored().getStatus().getLastScheduleTime());
    assertEquals(Reason.SUSPENDED.wire(), ready().getReason());
  }

  @Test
  void aPassRepeatedAfterACrashFindsTheSnapshotItTookAndRecordsIt() {
    VfioSnapshotSchedule schedule = schedule("*/15 * * * *", "2026-12-07T10:00:00Z", s -> {});
    reconcileAt(NOW, schedule);

    // The status write of that pass was lost: the schedule still shows the 10:00 run.
    reconcileAt(NOW, schedule);

    assertEquals(1, snapshots().size());
    assertEquals("nightly-202612071015", stored().getStatus().getLastSnapshotName());
  }

  @Test
  void aScheduleThatIsNotCronIsInvalidAndTakesNothing() {
    VfioSnapshotSchedule schedule = schedule("every night", "2026-12-07T10:00:00Z", s -> {});

    reconcileAt(NOW, schedule);

    assertEquals(List.of(), snapshots());
    assertEquals(Condition.FALSE, ready().getStatus());
    assertEquals(Reason.INVALID_SPEC.wire(), ready().getReason());
    assertTrue(
        ready().getMessage().startsWith("spec.schedule 'every night'"), ready().getMessage());
  }

  @Test
  void retentionDeletesTheOldestEndedSnapshotsBeyondKeepLast() {
    VfioSnapshotSchedule schedule =
        schedule(
            "0 3 * * *",
            "2026-12-07T03:00:00Z",
            s -> {
              RetentionSpec retention = new RetentionSpec();
              retention.setKeepLast(2);
              s.setRetention(retention);
            });
    for (String day : List.of("04", "05", "06", "07")) {
      ended("nightly-202612" + day + "0300", SnapshotPhase.Ready, 1024);
    }

    reconcileAt(NOW, schedule);

    assertEquals(
        List.of("nightly-202612060300", "nightly-202612070300"),
        snapshots().stream().map(s -> s.getMetadata().getName()).sorted().toList());
    assertEquals(2, stored().getStatus().getSnapshotCount());
    assertEquals(2048, stored().getStatus().getTotalBytes());
  }

  @Test
  void deletingAScheduleLetsItsSnapshotsGoOrTakesThemAsItsPolicySays() {
    VfioSnapshotSchedule retaining = schedule("0 3 * * *", "2026-12-07T03:00:00Z", s -> {});
    ended("nightly-202612070300", SnapshotPhase.Ready, 1);

    reconciler().cleanup(retaining, unusedContext());

    VfioSnapshot kept = snapshot("nightly-202612070300");
    assertNotNull(kept);
    assertNull(kept.getMetadata().getLabels().get(VfioSnapshotSchedule.SCHEDULE_LABEL));

    VfioSnapshotSchedule deleting =
        schedule(
            "0 3 * * *",
            "2026-12-07T03:00:00Z",
            s -> s.setSnapshotsOnDeletion(SnapshotsOnDeletion.Delete));
    ended("nightly-202612060300", SnapshotPhase.Ready, 1);

    reconciler().cleanup(deleting, unusedContext());

    assertNull(snapshot("nightly-202612060300"));
    assertNotNull(snapshot("nightly-202612070300"), "no longer its own");
  }

  private UpdateControl<VfioSnapshotSchedule> reconcileAt(
      Instant now, VfioSnapshotSchedule schedule) {
    return new VfioSnapshotScheduleReconciler(
            client, Clock.fixed(now, ZoneOffset.UTC), (context, written, over) -> {}, this::owned)
        .reconcile(schedule, unusedContext());
  }

  private VfioSnapshotScheduleReconciler reconciler() {
    return new VfioSnapshotScheduleReconciler(
        client, Clock.fixed(NOW, ZoneOffset.UTC), (context, written, over) -> {}, this::owned);
  }

  private List<VfioSnapshot> owned(
      VfioSnapshotSchedule schedule, Context<VfioSnapshotSchedule> context) {
    return client
        .resources(VfioSnapshot.class)
        .inNamespace("default")
        .withLabel(VfioSnapshotSchedule.SCHEDULE_LABEL, schedule.getMetadata().getName())
        .list()
        .getItems();
  }

  private VfioSnapshotSchedule schedule(
      String cron, String lastRun, Consumer<VfioSnapshotScheduleSpec> customize) {
    client
        .resources(VfioSnapshotSchedule.class)
        .inNamespace("default")
        .withName("nightly")
        .delete();
    VfioSnapshotSchedule schedule = new VfioSnapshotSchedule();
    schedule.setMetadata(
        new ObjectMetaBuilder().withName("nightly").withNamespace("default").build());
    VfioSnapshotScheduleSpec spec = new VfioSnapshotScheduleSpec();
    spec.setSchedule(cron);
    VfioSnapshotSpec template = new VfioSnapshotSpec();
    template.setPodName("gpu-workload");
    spec.setTemplate(template);
    customize.accept(spec);
    schedule.setSpec(spec);
    schedule = client.resource(schedule).create();
    if (lastRun != null) {
      VfioSnapshotScheduleStatus status = new VfioSnapshotScheduleStatus();
      status.setLastScheduleTime(lastRun);
      schedule.setStatus(status);
      schedule = client.resource(schedule).updateStatus();
    }
    return schedule;
  }

  private void ended(String name, SnapshotPhase phase, long bytes) {
    VfioSnapshot snapshot = new VfioSnapshot();
    snapshot.setMetadata(
        new ObjectMetaBuilder()
            .withName(name)
            .withNamespace("default")
            .withLabels(Map.of(VfioSnapshotSchedule.SCHEDULE_LABEL, "nightly"))
            .build());
    VfioSnapshotSpec spec = new VfioSnapshotSpec();
    spec.setPodName("gpu-workload");
    snapshot.setSpec(spec);
    snapshot = client.resource(snapshot).create();
    VfioSnapshotStatus status = new VfioSnapshotStatus();
    status.setPhase(phase);
    status.setTotalBytes(bytes);
    snapshot.setStatus(status);
    client.resource(snapshot).updateStatus();
  }

  private VfioSnapshotSchedule stored() {
    return client
        .resources(VfioSnapshotSchedule.class)
        .inNamespace("default")
        .withName("nightly")
        .get();
  }

  private Condition ready() {
    return Conditions.find(stored().getStatus().getConditions(), Conditions.READY);
  }

  private VfioSnapshot snapshot(String name) {
    return client.resources(VfioSnapshot.class).inNamespace("default").withName(name).get();
  }

  private List<VfioSnapshot> snapshots() {
    return client.resources(VfioSnapshot.class).inNamespace("default").list().getItems();
  }

  @SuppressWarnings("unchecked")
  private static Context<VfioSnapshotSchedule> unusedContext() {
    return (Context<VfioSnapshotSchedule>)
        Proxy.newProxyInstance(
            Context.class.getClassLoader(),
            new Class<?>[] {Context.class},
            (proxy, method, args) -> {
              throw new UnsupportedOperationException(method.getName());
            });
  }
}
