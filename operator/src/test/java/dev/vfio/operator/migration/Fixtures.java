package dev.vfio.operator.migration;

import dev.vfio.api.v1alpha1.Conditions;
import dev.vfio.api.v1alpha1.DeviceMapping;
import dev.vfio.api.v1alpha1.MigrationPhase;
import dev.vfio.api.v1alpha1.TaskOperation;
import dev.vfio.api.v1alpha1.TaskPhase;
import dev.vfio.api.v1alpha1.VfioMigration;
import dev.vfio.api.v1alpha1.VfioMigrationStatus;
import dev.vfio.api.v1alpha1.VfioNode;
import dev.vfio.api.v1alpha1.VfioNodeStatus;
import dev.vfio.api.v1alpha1.VfioNodeTask;
import dev.vfio.api.v1alpha1.VfioNodeTaskSpec;
import dev.vfio.api.v1alpha1.VfioNodeTaskStatus;
import dev.vfio.operator.events.Notice;
import dev.vfio.operator.reconcile.Plan;
import dev.vfio.operator.tasks.LostNodes;
import dev.vfio.operator.tasks.TaskAction;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Function;

/** Migrations, pods and tasks as the flows observe them, for tests that need no API server. */
final class Fixtures {
  static final Instant STARTED = Instant.parse("2026-12-01T10:00:00Z");
  static final Instant NOW = STARTED.plusSeconds(30);

  /** Past the default timeout of 10 minutes. */
  static final Instant LATE = STARTED.plus(Duration.ofMinutes(11));

  /**
   * Past twice the default heartbeat timeout of 60s after {@link #STARTED}: a node silent since
   * then is lost.
   */
  static final Instant SILENT_TOO_LONG = STARTED.plusSeconds(121);

  private Fixtures() {}

  /** Migration {@code mig} in namespace default with the spec given as JSON. */
  static VfioMigration migration(String spec) {
    return Serialization.unmarshal(
        """
        {"apiVersion": "vfio.dev/v1alpha1", "kind": "VfioMigration",
         "metadata": {"name": "mig", "namespace": "default", "uid": "mig-uid", "generation": 1},
         "spec": %s}
        """
            .formatted(spec),
        VfioMigration.class);
  }

  static VfioMigration live() {
    return migration("{\"source\": {\"podName\": \"source\"}, \"targetPodName\": \"target\"}");
  }

  static VfioMigration restore() {
    return migration(
        "{\"source\": {\"snapshotName\": \"nightly\"}, \"targetPodName\": \"target\"}");
  }

  static VfioMigration storage() {
    return migration(
        "{\"source\": {\"podName\": \"source\"}, \"targetPodName\": \"target\", \"transport\": \"Storage\"}");
  }

  /** {@code migration} as started at {@link #STARTED} from node-a to node-b. */
  static VfioMigration running(VfioMigration migration) {
    VfioMigrationStatus status = new VfioMigrationStatus();
    status.setPhase(MigrationPhase.Running);
    status.setStartTime(STARTED.toString());
    status.setSourceNode("node-a");
    status.setTargetNode("node-b");
    migration.setStatus(status);
    return migration;
  }

  static Pod pod(String name, String uid, String node) {
    return new PodBuilder()
        .withMetadata(
            new ObjectMetaBuilder().withName(name).withNamespace("default").withUid(uid).build())
        .withNewSpec()
        .withNodeName(node)
        .endSpec()
        .build();
  }

  /** The source on node-a and the target on node-b, as the API server has them. */
  static FlowSteps.Pods pods(Pod... pods) {
    Map<String, Pod> byName = new HashMap<>();
    for (Pod pod : pods) {
      byName.put(pod.getMetadata().getNamespace() + "/" + pod.getMetadata().getName(), pod);
    }
    return (namespace, name) -> byName.get(namespace + "/" + name);
  }

  static FlowSteps.Pods bothPods() {
    return pods(pod("source", "source-uid", "node-a"), pod("target", "target-uid", "node-b"));
  }

  /** Steps whose nodes' agents all heartbeat throughout the tests' times. */
  static FlowSteps steps(FlowSteps.Pods pods) {
    return steps(pods, name -> heartbeatAt(name, LATE));
  }

  /**
   * Steps that read the nodes' VfioNodes from {@code nodes}, with the default heartbeat timeout of
   * 60s.
   */
  static FlowSteps steps(FlowSteps.Pods pods, Function<String, VfioNode> nodes) {
    return new FlowSteps(
        Duration.ofMinutes(10), pods, new LostNodes(Duration.ofSeconds(60), nodes));
  }

  /** The VfioNode of {@code name}, its agent's last heartbeat at {@code heartbeat}. */
  static VfioNode heartbeatAt(String name, Instant heartbeat) {
    VfioNode node = new VfioNode();
    node.setMetadata(new ObjectMetaBuilder().withName(name).build());
    VfioNodeStatus status = new VfioNodeStatus();
    status.setHeartbeatTime(heartbeat.toString());
    node.setStatus(status);
    return node;
  }

  /** Node-a's agent heartbeats throughout; node-b's fell silent at {@link #STARTED}. */
  static Function<String, VfioNode> nodeBSilentSinceStart() {
    return name -> heartbeatAt(name, name.equals("node-b") ? STARTED : LATE);
  }

  static List<DeviceMapping> pairs() {
    DeviceMapping pair = new DeviceMapping();
    pair.setSource("0000:3b:00.0");
    pair.setTarget("0000:af:00.0");
    return List.of(pair);
  }

  /** The plan preflight makes of a live or storage migration of one device, 1 MiB expected. */
  static MigrationPlan livePlan() {
    return new MigrationPlan(
        pod("source", "source-uid", "node-a"),
        "node-a",
        null,
        null,
        null,
        pod("target", "target-uid", "node-b"),
        "node-b",
        pairs(),
        1 << 20,
        Duration.ofMinutes(10));
  }

  /**
   * The task of {@code role} for migration {@code mig}, its spec and status as {@code customize}
   * makes them.
   */
  static VfioNodeTask task(
      String role,
      TaskOperation operation,
      String node,
      String podUid,
      TaskPhase phase,
      Consumer<VfioNodeTaskStatus> customize) {
    VfioNodeTask task = new VfioNodeTask();
    task.setMetadata(
        new ObjectMetaBuilder().withName("mig-" + role).withNamespace("default").build());
    VfioNodeTaskSpec spec = new VfioNodeTaskSpec();
    spec.setOperation(operation);
    spec.setNodeName(node);
    spec.setPodUid(podUid);
    spec.setDeviceMap(pairs());
    spec.setDevices(
        List.of(
            operation == TaskOperation.Send || operation == TaskOperation.Save
                ? "0000:3b:00.0"
                : "0000:af:00.0"));
    spec.setDeadline(STARTED.plus(Duration.ofMinutes(10)).toString());
    task.setSpec(spec);
    VfioNodeTaskStatus status = new VfioNodeTaskStatus();
    status.setPhase(phase);
    customize.accept(status);
    task.setStatus(status);
    return task;
  }

  static VfioNodeTask task(
      String role, TaskOperation operation, String node, String podUid, TaskPhase phase) {
    return task(role, operation, node, podUid, phase, status -> {});
  }

  static <T extends TaskAction> List<T> actions(Plan<?> plan, Class<T> type) {
    return plan.tasks().stream().filter(type::isInstance).map(type::cast).toList();
  }

  /** The spec of the one task {@code plan} creates for {@code role}. */
  static VfioNodeTaskSpec created(Plan<?> plan, String role) {
    List<TaskAction.Create> creates =
        actions(plan, TaskAction.Create.class).stream().filter(c -> c.role().equals(role)).toList();
    if (creates.size() != 1) {
      throw new AssertionError(
          "expected one task " + role + " to be created, the plan creates " + plan.tasks());
    }
    return creates.get(0).spec();
  }

  static List<String> cancelled(Plan<?> plan) {
    return actions(plan, TaskAction.Cancel.class).stream()
        .map(c -> c.task().getMetadata().getName())
        .toList();
  }

  static String readyReason(Plan<VfioMigrationStatus> plan) {
    return Conditions.find(plan.status().getConditions(), Conditions.READY).getReason();
  }

  static List<String> reasons(Plan<?> plan) {
    return plan.notices().stream().map(Notice::reason).toList();
  }
}
