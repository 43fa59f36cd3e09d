package dev.vfio.operator.snapshot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vfio.api.v1alpha1.Condition;
import dev.vfio.api.v1alpha1.Conditions;
import dev.vfio.api.v1alpha1.DeletionPolicy;
import dev.vfio.api.v1alpha1.Digest;
import dev.vfio.api.v1alpha1.MigrationPhase;
import dev.vfio.api.v1alpha1.MigrationSource;
import dev.vfio.api.v1alpha1.NodeDevice;
import dev.vfio.api.v1alpha1.PodReference;
import dev.vfio.api.v1alpha1.Reason;
import dev.vfio.api.v1alpha1.SnapshotPhase;
import dev.vfio.api.v1alpha1.StorageClaimStatus;
import dev.vfio.api.v1alpha1.TaskOperation;
import dev.vfio.api.v1alpha1.TaskPhase;
import dev.vfio.api.v1alpha1.VfioMigration;
import dev.vfio.api.v1alpha1.VfioMigrationSpec;
import dev.vfio.api.v1alpha1.VfioMigrationStatus;
import dev.vfio.api.v1alpha1.VfioNode;
import dev.vfio.api.v1alpha1.VfioNodeStatus;
import dev.vfio.api.v1alpha1.VfioNodeTask;
import dev.vfio.api.v1alpha1.VfioNodeTaskSpec;
import dev.vfio.api.v1alpha1.VfioNodeTaskStatus;
import dev.vfio.api.v1alpha1.VfioSnapshot;
import dev.vfio.api.v1alpha1.VfioSnapshotSpec;
import dev.vfio.api.v1alpha1.VfioSnapshotStatus;
import dev.vfio.operator.config.OperatorConfig;
import dev.vfio.operator.metrics.OperatorMetrics;
import dev.vfio.operator.preflight.OperationsInFlight;
import dev.vfio.operator.preflight.PodOperations;
import dev.vfio.operator.tasks.NodeTasks;
import dev.vfio.operator.tasks.TaskMap;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.fabric8.mockwebserver.http.RecordedRequest;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import java.io.InputStream;
import java.lang.reflect.Proxy;
import java.time.Clock;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

@EnableKubernetesMockClient(crud = true)
class VfioSnapshotReconcilerTest {
  KubernetesClient client;
  KubernetesMockServer server;
  VfioSnapshotReconciler reconciler;
  Pod pod;
  TaskMap taskCache = new TaskMap();
  PodOperations podOperations;

  @BeforeEach
  void clusterWithAPodAndItsAgent() throws Exception {
    podOperations = new PodOperations(new OperationsInFlight(client));
    for (String crd : List.of("vfiosnapshots", "vfiomigrations", "vfionodetasks", "vfionodes")) {
      try (InputStream manifest =
          getClass().getResourceAsStream("/vfio-crds/" + crd + ".vfio.dev.yaml")) {
        client.resource(Serialization.unmarshal(manifest, CustomResourceDefinition.class)).create();
      }
    }
    pod =
        client
            .resource(
                new PodBuilder()
                    .withNewMetadata()
                    .withName("gpu-workload")
                    .withNamespace("default")
                    .withUid("uid-1")
                    .endMetadata()
                    .withNewSpec()
                    .withNodeName("node-a")
                    .endSpec()
                    .withNewStatus()
                    .withPhase("Running")
                    .endStatus()
                    .build())
            .create();
    reconciler =
        new VfioSnapshotReconciler(
            client,
            OperatorConfig.fromEnvironment(Map.of()),
            Clock.systemUTC(),
            new OperatorMetrics(),
            podOperations,
            taskCache,
            (context, written, over) -> {});
  }

  @Test
  void aNewSnapshotStartsWithoutAskingTheApiServerForItsTask() throws Exception {
    agentReportsAt(Instant.now().plusSeconds(10));
    VfioSnapshot snapshot = createSnapshot();
    drainRequests();

    reconciler.reconcile(snapshot, unusedContext());

    List<String> requests =
        drainRequests().stream().map(r -> r.getMethod() + " " + r.getPath()).toList();
    assertEquals(
        List.of(),
        requests.stream().filter(r -> r.startsWith("GET") && r.contains("vfionodetasks/")).toList(),
        "requests: " + requests);
    assertNotNull(
        client.resources(VfioNodeTask.class).inNamespace("default").withName("snap-save").get());
    assertEquals(SnapshotPhase.Running, stored().getStatus().getPhase());
    assertEquals("snap-save", stored().getStatus().getTaskName());
  }

  @Test
  void aTaskCreatedBeforeARestartIsTakenOverEvenWhenTheCheckWouldNowRefuse() {
    // Older than the heartbeat timeout (60s), which refuses new work, but not yet twice as old: not
    // lost.
    agentReportsAt(Instant.now().minusSeconds(90));
    VfioSnapshot snapshot = createSnapshot();
    VfioNodeTask task = createSaveTask(snapshot);

    reconciler.reconcile(snapshot, unusedContext());

    VfioSnapshotStatus status = stored().getStatus();
    assertEquals(
        SnapshotPhase.Running,
        status.getPhase(),
        "the agent's stale heartbeat does not fail a snapshot whose task exists");
    assertEquals("snap-save", status.getTaskName());
    assertEquals("node-a", status.getNodeName());
    assertEquals(1, status.getDeviceCount());
    assertEquals(
        OffsetDateTime.parse(task.getMetadata().getCreationTimestamp()).toInstant().toString(),
        status.getStartTime(),
        "the deadline counts from when the task was created");
  }

  @Test
  void aSnapshotWhoseTaskIsGoneFailsWithTaskLost() {
    agentReportsAt(Instant.now().plusSeconds(10));
    reconciler.reconcile(createSnapshot(), unusedContext());
    VfioSnapshot running = stored();

    new VfioSnapshotReconciler(
            client,
            OperatorConfig.fromEnvironment(Map.of()),
            Clock.systemUTC(),
            new OperatorMetrics(),
            podOperations,
            new TaskMap(),
            (context, written, over) -> {})
        .reconcile(running, unusedContext());

    assertEquals(SnapshotPhase.Failed, stored().getStatus().getPhase());
    assertEquals(
        Reason.TASK_LOST.wire(),
        Conditions.find(stored().getStatus().getConditions(), Conditions.READY).getReason());
  }

  @Test
  void aSecondSnapshotOfAPodWaitsPodBusyUntilTheFirstEndsThenStarts() {
    agentReportsAt(Instant.now().plusSeconds(10));
    reconciler.reconcile(createSnapshot(), unusedContext());
    VfioSnapshot later = createSnapshot("later", spec -> {});

    reconciler.reconcile(later, unusedContext());

    VfioSnapshotStatus waiting = stored("later").getStatus();
    Condition ready = Conditions.find(waiting.getConditions(), Conditions.READY);
    assertEquals(SnapshotPhase.Pending, waiting.getPhase());
    assertEquals(Reason.POD_BUSY.wire(), ready.getReason());
    assertTrue(ready.getMessage().contains("VfioSnapshot default/snap "), ready.getMessage());
    assertNull(
        client.resources(VfioNodeTask.class).inNamespace("default").withName("later-save").get());

    // The first ends (its task disappeared): the pod is free.
    new VfioSnapshotReconciler(
            client,
            OperatorConfig.fromEnvironment(Map.of()),
            Clock.systemUTC(),
            new OperatorMetrics(),
            podOperations,
            new TaskMap(),
            (context, written, over) -> {})
        .reconcile(stored(), unusedContext());
    assertEquals(SnapshotPhase.Failed, stored().getStatus().getPhase());
    reconciler.reconcile(stored("later"), unusedContext());

    assertEquals(SnapshotPhase.Running, stored("later").getStatus().getPhase());
    assertNotNull(
        client.resources(VfioNodeTask.class).inNamespace("default").withName("later-save").get());
  }

  @Test
  void afterARestartASnapshotReconciledBeforeTheRunningOneOfItsPodStillWaitsPodBusy() {
    agentReportsAt(Instant.now().plusSeconds(10));
    reconciler.reconcile(createSnapshot(), unusedContext());
    VfioSnapshot later = createSnapshot("later", spec -> {});

    restartedReconciler().reconcile(later, unusedContext());

    assertWaitsPodBusyFor("VfioSnapshot default/snap");
  }

  @Test
  void anOperatorThatDiedBetweenCreatingATaskAndRecordingItLeftThePodHeld() {
    agentReportsAt(Instant.now().plusSeconds(10));
    VfioSnapshot first = createSnapshot();
    createSaveTask(first);
    VfioSnapshot later = createSnapshot("later", s -> {});

    restartedReconciler().reconcile(later, unusedContext());

    assertWaitsPodBusyFor("VfioSnapshot default/snap");
  }

  @Test
  void aRunningMigrationOfThePodRecordedByAnEarlierOperatorKeepsASnapshotWaiting() {
    agentReportsAt(Instant.now().plusSeconds(10));
    VfioMigration migration = new VfioMigration();
    migration.setMetadata(
        new ObjectMetaBuilder().withName("move").withNamespace("default").build());
    VfioMigrationSpec spec = new VfioMigrationSpec();
    spec.setTargetPodName("gpu-workload");
    MigrationSource source = new MigrationSource();
    source.setSnapshotName("nightly");
    spec.setSource(source);
    migration.setSpec(spec);
    migration = client.resource(migration).create();
    VfioMigrationStatus running = new VfioMigrationStatus();
    running.setPhase(MigrationPhase.Running);
    migration.setStatus(running);
    client.resource(migration).updateStatus();
    VfioSnapshot snapshot = createSnapshot("later", s -> {});

    restartedReconciler().reconcile(snapshot, unusedContext());

    assertWaitsPodBusyFor("VfioMigration default/move");
    running.setPhase(MigrationPhase.Succeeded);
    client.resource(migration).updateStatus();
    restartedReconciler().reconcile(stored("later"), unusedContext());
    assertEquals(SnapshotPhase.Running, stored("later").getStatus().getPhase());
  }

  /** A reconciler of a new operator process: it remembers nothing the one before decided. */
  private VfioSnapshotReconciler restartedReconciler() {
    return new VfioSnapshotReconciler(
        client,
        OperatorConfig.fromEnvironment(Map.of()),
        Clock.systemUTC(),
        new OperatorMetrics(),
        new PodOperations(new OperationsInFlight(client)),
        new TaskMap(),
        (context, written, over) -> {});
  }

  private void assertWaitsPodBusyFor(String holder) {
    VfioSnapshotStatus waiting = stored("later").getStatus();
    Condition ready = Conditions.find(waiting.getConditions(), Conditions.READY);
    assertEquals(SnapshotPhase.Pending, waiting.getPhase());
    assertEquals(Reason.POD_BUSY.wire(), ready.getReason());
    assertTrue(ready.getMessage().contains(holder + " in flight"), ready.getMessage());
    assertNull(
        client.resources(VfioNodeTask.class).inNamespace("default").withName("later-save").get());
  }

  @Test
  void aSaveWhoseAgentStaysSilentPastTwiceTheHeartbeatTimeoutFailsTheSnapshotNodeLost() {
    Instant heartbeat = Instant.parse("2026-12-01T10:00:00Z");
    agentReportsAt(heartbeat);
    VfioSnapshot running = runningSnapshot(heartbeat);

    reconcilerAt(heartbeat.plusSeconds(120)).reconcile(running, unusedContext());
    assertEquals(
        SnapshotPhase.Running,
        stored().getStatus().getPhase(),
        "two heartbeat timeouts are not over yet");

    reconcilerAt(heartbeat.plusSeconds(121)).reconcile(stored(), unusedContext());
    Condition ready = Conditions.find(stored().getStatus().getConditions(), Conditions.READY);
    assertEquals(SnapshotPhase.Failed, stored().getStatus().getPhase());
    assertEquals(Reason.NODE_LOST.wire(), ready.getReason());
    assertTrue(
        ready.getMessage().contains("node node-a")
            && ready.getMessage().contains("no heartbeat for 121s"),
        ready.getMessage());
  }

  @Test
  void aSaveThatStopsHeartbeatingWhileItsAgentRunsFailsTheSnapshotTaskStalled() {
    Instant started = Instant.parse("2026-12-01T10:00:00Z");
    VfioSnapshot running = runningSnapshot(started);
    agentReportsAt(started.plusSeconds(121));

    reconcilerAt(started.plusSeconds(120)).reconcile(running, unusedContext());
    assertEquals(
        SnapshotPhase.Running,
        stored().getStatus().getPhase(),
        "two heartbeat timeouts are not over yet");

    reconcilerAt(started.plusSeconds(121)).reconcile(stored(), unusedContext());
    Condition ready = Conditions.find(stored().getStatus().getConditions(), Conditions.READY);
    assertEquals(SnapshotPhase.Failed, stored().getStatus().getPhase());
    assertEquals(Reason.TASK_STALLED.wire(), ready.getReason());
    assertTrue(
        ready.getMessage().contains("snap-save") && ready.getMessage().contains("121s"),
        ready.getMessage());
  }

  @Test
  void aSaveWhoseAgentDiedJustAfterItsLastHeartbeatFailsNodeLostNotTaskStalled() {
    Instant started = Instant.parse("2026-12-01T10:00:00Z");
    VfioSnapshot running = runningSnapshot(started);
    // The agent's last node heartbeat came 10 s after the task's, then the agent died.
    agentReportsAt(started.plusSeconds(10));

    reconcilerAt(started.plusSeconds(121)).reconcile(running, unusedContext());
    assertEquals(
        SnapshotPhase.Running,
        stored().getStatus().getPhase(),
        "the task is silent past the allowance, but so is its agent, for less than it");

    reconcilerAt(started.plusSeconds(131)).reconcile(stored(), unusedContext());
    Condition ready = Conditions.find(stored().getStatus().getConditions(), Conditions.READY);
    assertEquals(SnapshotPhase.Failed, stored().getStatus().getPhase());
    assertEquals(Reason.NODE_LOST.wire(), ready.getReason());
  }

  @Test
  void deletingASnapshotWhoseSaveSitsOnALostNodeDoesNotWaitForItsAgent() {
    Instant heartbeat = Instant.parse("2026-12-01T10:00:00Z");
    agentReportsAt(heartbeat);
    VfioSnapshot running = runningSnapshot(heartbeat);
    running.getSpec().setDeletionPolicy(DeletionPolicy.Retain);

    var waiting = reconcilerAt(heartbeat.plusSeconds(60)).cleanup(running, unusedContext());
    var done = reconcilerAt(heartbeat.plusSeconds(121)).cleanup(running, unusedContext());

    assertFalse(waiting.isRemoveFinalizer(), "a live agent is waited for to roll the devices back");
    assertTrue(done.isRemoveFinalizer());
    assertNull(
        client.resources(VfioNodeTask.class).inNamespace("default").withName("snap-save").get());
  }

  /**
   * A snapshot whose save task on node-a the agent took at {@code started} and still reports
   * Running.
   */
  /** The Save task of {@code snapshot}, as the reconciler creates it, for gpu-workload's device. */
  private VfioNodeTask createSaveTask(VfioSnapshot snapshot) {
    VfioNodeTaskSpec spec = new VfioNodeTaskSpec();
    spec.setOperation(TaskOperation.Save);
    spec.setNodeName("node-a");
    spec.setPodName("gpu-workload");
    spec.setDevices(List.of("0000:3b:00.0"));
    return new NodeTasks(client, taskCache)
        .create(snapshot, VfioSnapshotReconciler.SAVE, spec, true, Map.of());
  }

  private VfioSnapshot runningSnapshot(Instant started) {
    VfioSnapshot snapshot = createSnapshot();
    VfioNodeTask task = createSaveTask(snapshot);
    VfioNodeTaskStatus taskStatus = new VfioNodeTaskStatus();
    taskStatus.setPhase(TaskPhase.Running);
    // As the agent's claim writes it.
    taskStatus.setHeartbeatTime(started.toString());
    task.setStatus(taskStatus);
    taskCache.created(client.resource(task).updateStatus());
    VfioSnapshotStatus status = new VfioSnapshotStatus();
    status.setPhase(SnapshotPhase.Running);
    status.setTaskName("snap-save");
    status.setNodeName("node-a");
    status.setStartTime(started.toString());
    snapshot.setStatus(status);
    return client.resource(snapshot).updateStatus();
  }

  private VfioSnapshotReconciler reconcilerAt(Instant now) {
    return new VfioSnapshotReconciler(
        client,
        OperatorConfig.fromEnvironment(Map.of()),
        Clock.fixed(now, ZoneOffset.UTC),
        new OperatorMetrics(),
        podOperations,
        taskCache,
        (context, written, over) -> {});
  }

  @Test
  void deletingASnapshotWhileNoAgentCanDeleteItsBlobsRepeatsOneCountedWarning() {
    agentReportsAt(Instant.now().minusSeconds(3600));
    VfioSnapshot saved = savedSnapshot();

    reconciler.cleanup(saved, unusedContext());
    var waiting = reconciler.cleanup(saved, unusedContext());

    assertFalse(waiting.isRemoveFinalizer(), "the blobs must not outlive their snapshot silently");
    List<Event> events = client.v1().events().inNamespace("default").list().getItems();
    assertEquals(1, events.size());
    assertEquals(Reason.AGENT_NOT_READY.wire(), events.get(0).getReason());
    assertEquals(2, events.get(0).getCount());
  }

  @Test
  void deletingASnapshotHandsItsBlobsToAReadyAgentMountingTheClaim() {
    agentReportsAt(Instant.now().plusSeconds(10));
    VfioSnapshot saved = savedSnapshot();

    var waiting = reconciler.cleanup(saved, unusedContext());

    assertFalse(waiting.isRemoveFinalizer());
    VfioNodeTask deletion =
        client
            .resources(VfioNodeTask.class)
            .inNamespace("default")
            .withName("snap-delete-blobs")
            .get();
    assertEquals(TaskOperation.DeleteBlobs, deletion.getSpec().getOperation());
    assertEquals("node-a", deletion.getSpec().getNodeName());
    assertEquals("default/snap", deletion.getSpec().getBlobDirectory());
    assertEquals(
        List.of(), deletion.getMetadata().getOwnerReferences(), "its snapshot is going away");
  }

  /** A snapshot whose save ran and whose task is gone: only its blobs are left. */
  private VfioSnapshot savedSnapshot() {
    VfioSnapshot snapshot = createSnapshot();
    VfioSnapshotStatus status = new VfioSnapshotStatus();
    status.setPhase(SnapshotPhase.Ready);
    status.setTaskName("snap-save");
    status.setNodeName("node-a");
    snapshot.setStatus(status);
    return client.resource(snapshot).updateStatus();
  }

  private VfioSnapshot createSnapshot() {
    return createSnapshot(spec -> {});
  }

  private VfioSnapshot createSnapshot(Consumer<VfioSnapshotSpec> customize) {
    return createSnapshot("snap", customize);
  }

  private VfioSnapshot createSnapshot(String name, Consumer<VfioSnapshotSpec> customize) {
    VfioSnapshot snapshot = new VfioSnapshot();
    snapshot.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace("default").build());
    VfioSnapshotSpec spec = new VfioSnapshotSpec();
    spec.setPodName("gpu-workload");
    customize.accept(spec);
    snapshot.setSpec(spec);
    return client.resource(snapshot).create();
  }

  @ParameterizedTest
  @CsvSource({"'', None", "None, None", "SHA256, SHA256"})
  void theSaveTaskCarriesTheDigestTheSnapshotAsksFor(String asked, Digest carried)
      throws Exception {
    agentReportsAt(Instant.now().plusSeconds(10));
    VfioSnapshot snapshot =
        createSnapshot(spec -> spec.setDigest(asked.isEmpty() ? null : Digest.valueOf(asked)));

    reconciler.reconcile(snapshot, unusedContext());

    VfioNodeTask task =
        client.resources(VfioNodeTask.class).inNamespace("default").withName("snap-save").get();
    assertEquals(carried, task.getSpec().getDigest());
  }

  private VfioSnapshot stored() {
    return stored("snap");
  }

  private VfioSnapshot stored(String name) {
    return client.resources(VfioSnapshot.class).inNamespace("default").withName(name).get();
  }

  /** A VfioNode for node-a whose inventory shows the pod holding one migratable device. */
  private void agentReportsAt(Instant heartbeat) {
    VfioNode node = new VfioNode();
    node.setMetadata(new ObjectMetaBuilder().withName("node-a").build());
    VfioNode created = client.resource(node).create();
    VfioNodeStatus status = new VfioNodeStatus();
    status.setHeartbeatTime(heartbeat.toString());
    status.setConditions(
        List.of(new Condition(Conditions.READY, Condition.TRUE, "AgentReady", "ok")));
    NodeDevice device = new NodeDevice();
    device.setAddress("0000:3b:00.0");
    device.setDriver("vfio-pci");
    device.setMigrationFlags(List.of("STOP_COPY"));
    PodReference holder = new PodReference();
    holder.setUid(pod.getMetadata().getUid());
    device.setHolder(holder);
    status.setDevices(List.of(device));
    StorageClaimStatus claim = new StorageClaimStatus();
    claim.setName("vfio-snapshots");
    status.setStorage(List.of(claim));
    created.setStatus(status);
    client.resource(created).updateStatus();
  }

  /** The reconciler reads nothing from its context: the caches it reads are the test's. */
  @SuppressWarnings("unchecked")
  private static Context<VfioSnapshot> unusedContext() {
    return (Context<VfioSnapshot>)
        Proxy.newProxyInstance(
            Context.class.getClassLoader(),
            new Class<?>[] {Context.class},
            (proxy, method, args) -> {
              throw new UnsupportedOperationException(method.getName());
            });
  }

  private List<RecordedRequest> drainRequests() throws InterruptedException {
    List<RecordedRequest> requests = new ArrayList<>();
    for (RecordedRequest request = server.takeRequest(10, TimeUnit.MILLISECONDS);
        request != null;
        request = server.takeRequest(10, TimeUnit.MILLISECONDS)) {
      requests.add(request);
    }
    return requests;
  }
}
