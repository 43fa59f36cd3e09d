package dev.vfio.operator.tasks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vfio.api.v1alpha1.TaskOperation;
import dev.vfio.api.v1alpha1.TaskPhase;
import dev.vfio.api.v1alpha1.VfioNodeTask;
import dev.vfio.api.v1alpha1.VfioNodeTaskSpec;
import dev.vfio.api.v1alpha1.VfioNodeTaskStatus;
import dev.vfio.api.v1alpha1.VfioSnapshot;
import dev.vfio.api.v1alpha1.VfioSnapshotSpec;
import dev.vfio.operator.names.ValidNames;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.InputStream;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

@EnableKubernetesMockClient(crud = true)
class NodeTasksTest {
  KubernetesClient client;
  KubernetesMockServer server;
  NodeTasks tasks;
  final TaskMap cache = new TaskMap();

  @BeforeEach
  void installCrds() throws Exception {
    for (String crd : List.of("vfiosnapshots", "vfionodetasks")) {
      try (InputStream manifest =
          getClass().getResourceAsStream("/vfio-crds/" + crd + ".vfio.dev.yaml")) {
        client.resource(Serialization.unmarshal(manifest, CustomResourceDefinition.class)).create();
      }
    }
    tasks = new NodeTasks(client, cache);
  }

  @Test
  void theTasksOfASnapshotWithTheLongestNameHaveValidNamesAndAreSelectedByItsUid() {
    // 253 chars with a '.' as the last character each role's cut keeps: 228 for delete-blobs, 236
    // for save.
    String digits = ValidNames.withAt(ValidNames.MAX, 228, ".");
    VfioSnapshot snapshot = snapshot(digits.substring(0, 236) + "." + digits.substring(237));
    VfioSnapshot other = snapshot(digits);

    tasks.create(snapshot, "save", spec(), true, Map.of());
    tasks.create(snapshot, "delete-blobs", spec(), false, Map.of());
    tasks.create(other, "save", spec(), true, Map.of());

    List<VfioNodeTask> selected =
        client
            .resources(VfioNodeTask.class)
            .inNamespace("default")
            .withLabel(VfioNodeTask.PARENT_UID_LABEL, snapshot.getMetadata().getUid())
            .list()
            .getItems();
    assertEquals(
        Set.of(NodeTasks.name(snapshot, "save"), NodeTasks.name(snapshot, "delete-blobs")),
        selected.stream().map(t -> t.getMetadata().getName()).collect(Collectors.toSet()));
    for (VfioNodeTask task : selected) {
      assertTrue(
          ValidNames.isSubdomain(task.getMetadata().getName()), task.getMetadata().getName());
      task.getMetadata()
          .getLabels()
          .forEach((key, value) -> assertTrue(ValidNames.isLabelValue(value), key + "=" + value));
    }
  }

  @Test
  void aTaskForANodeWhoseNameIsLongerThanALabelValueCarriesNoNodeLabel() {
    VfioSnapshot snapshot = snapshot("long-node");
    VfioNodeTaskSpec spec = spec();
    spec.setNodeName("node-" + "a".repeat(200) + ".example.com");

    VfioNodeTask task = tasks.create(snapshot, "save", spec, true, Map.of());

    assertEquals(
        Map.of(VfioNodeTask.PARENT_UID_LABEL, snapshot.getMetadata().getUid()),
        task.getMetadata().getLabels());
  }

  @Test
  void aTaskForANodeWhoseNameFitsALabelValueCarriesTheNodeLabel() {
    VfioSnapshot snapshot = snapshot("short-node");

    VfioNodeTask task = tasks.create(snapshot, "save", spec(), true, Map.of());

    assertEquals("node-a", task.getMetadata().getLabels().get(VfioNodeTask.NODE_LABEL));
  }

  @Test
  void aCreatedTaskIsFoundWithoutARequestAndCreatingItAgainReturnsIt() {
    VfioSnapshot snapshot = snapshot("nightly");
    int before = server.getRequestCount();

    VfioNodeTask created = tasks.create(snapshot, "save", spec(), true, Map.of());

    assertEquals(1, server.getRequestCount() - before, "the create only");
    assertEquals(Optional.of(created), tasks.find(snapshot, "save"));
    assertEquals(Optional.empty(), tasks.find(snapshot, "delete-blobs"));
    assertEquals(1, server.getRequestCount() - before, "finding reads the cache only");
    VfioNodeTask again =
        new NodeTasks(client, new TaskMap()).create(snapshot, "save", spec(), true, Map.of());
    assertEquals(created.getMetadata().getUid(), again.getMetadata().getUid());
  }

  @Test
  void aPlanCancelsATaskThroughItsSpecOnceAndLeavesAnEndedOneAlone() {
    VfioSnapshot snapshot = snapshot("nightly");
    VfioNodeTask running = tasks.create(snapshot, "save", spec(), true, Map.of());

    tasks.apply(snapshot, new TaskAction.Cancel(running));
    VfioNodeTask cancelled = client.resource(running).get();
    assertEquals(Boolean.TRUE, cancelled.getSpec().getCancelRequested());
    int before = server.getRequestCount();
    tasks.apply(snapshot, new TaskAction.Cancel(cancelled));
    VfioNodeTaskStatus ended = new VfioNodeTaskStatus();
    ended.setPhase(TaskPhase.Failed);
    cancelled.setStatus(ended);
    cancelled.getSpec().setCancelRequested(null);
    tasks.apply(snapshot, new TaskAction.Cancel(cancelled));

    assertEquals(
        0, server.getRequestCount() - before, "asked once; an ended task has nothing to roll back");
  }

  @Test
  void aTaskWithoutStatusIsPendingAndOnlySucceededFailedAndCancelledAreTerminal() {
    VfioNodeTask task = new VfioNodeTask();
    assertEquals(TaskPhase.Pending, NodeTasks.phase(task));
    assertFalse(NodeTasks.isTerminal(task));
    for (TaskPhase phase : TaskPhase.values()) {
      VfioNodeTaskStatus status = new VfioNodeTaskStatus();
      status.setPhase(phase);
      task.setStatus(status);
      assertEquals(
          Set.of(TaskPhase.Succeeded, TaskPhase.Failed, TaskPhase.Cancelled).contains(phase),
          NodeTasks.isTerminal(task),
          phase.name());
    }
  }

  private VfioSnapshot snapshot(String name) {
    VfioSnapshot snapshot = new VfioSnapshot();
    snapshot.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace("default").build());
    VfioSnapshotSpec spec = new VfioSnapshotSpec();
    spec.setPodName("gpu-workload");
    snapshot.setSpec(spec);
    return client.resource(snapshot).create();
  }

  private static VfioNodeTaskSpec spec() {
    VfioNodeTaskSpec spec = new VfioNodeTaskSpec();
    spec.setOperation(TaskOperation.Save);
    spec.setNodeName("node-a");
    return spec;
  }
}
