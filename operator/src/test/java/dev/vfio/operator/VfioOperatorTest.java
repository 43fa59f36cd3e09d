package dev.vfio.operator;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vfio.api.v1alpha1.Condition;
import dev.vfio.api.v1alpha1.Conditions;
import dev.vfio.api.v1alpha1.NodeDevice;
import dev.vfio.api.v1alpha1.PodReference;
import dev.vfio.api.v1alpha1.Reason;
import dev.vfio.api.v1alpha1.SnapshotPhase;
import dev.vfio.api.v1alpha1.StorageClaimStatus;
import dev.vfio.api.v1alpha1.VfioMigration;
import dev.vfio.api.v1alpha1.VfioNode;
import dev.vfio.api.v1alpha1.VfioNodeStatus;
import dev.vfio.api.v1alpha1.VfioSnapshot;
import dev.vfio.api.v1alpha1.VfioSnapshotSpec;
import dev.vfio.operator.config.OperatorConfig;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.io.InputStream;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The operator as its main wires it, against a test API server. */
@EnableKubernetesMockClient(crud = true)
class VfioOperatorTest {
  KubernetesClient client;
  KubernetesMockServer server;
  VfioOperator operator;

  @AfterEach
  void stop() {
    if (operator != null) {
      operator.close();
    }
  }

  @Test
  void theSnapshotPreflightReadsTheNodeFromTheWatch() throws Exception {
    installCrds();
    Pod pod =
        client
            .resource(
                new PodBuilder()
                    .withNewMetadata()
                    .withName("gpu-workload")
                    .withNamespace("default")
                    .endMetadata()
                    .withNewSpec()
                    .withNodeName("node-a")
                    .endSpec()
                    .withNewStatus()
                    .withPhase("Running")
                    .endStatus()
                    .build())
            .create();
    agentReports(pod);
    operator =
        new VfioOperator(
            client,
            OperatorConfig.fromEnvironment(
                Map.of(
                    "VFIO_HEALTH_PORT",
                    "-1",
                    "VFIO_TRANSPORT_SECRET",
                    "default/vfio-operator-transport")),
            Clock.systemUTC());
    operator.start();
    drainRequests();

    VfioSnapshot snapshot = new VfioSnapshot();
    snapshot.setMetadata(new ObjectMetaBuilder().withName("snap").withNamespace("default").build());
    VfioSnapshotSpec spec = new VfioSnapshotSpec();
    spec.setPodName("gpu-workload");
    snapshot.setSpec(spec);
    client.resource(snapshot).create();
    await()
        .atMost(Duration.ofSeconds(60))
        .until(
            () -> {
              VfioSnapshot stored =
                  client
                      .resources(VfioSnapshot.class)
                      .inNamespace("default")
                      .withName("snap")
                      .get();
              return stored.getStatus() != null
                  && stored.getStatus().getPhase() == SnapshotPhase.Running;
            });

    List<String> reads =
        drainRequests().stream()
            .map(r -> r.getMethod() + " " + r.getPath())
            .filter(r -> r.startsWith("GET") && r.contains("/vfionodes/"))
            .toList();
    assertEquals(List.of(), reads, "the node comes from the watch the operator keeps");
  }

  /**
   * Objects only a newer CRD lets the API server store, created without the typed model: some exist
   * when the operator starts (its first list), some appear while it runs (its watch).
   */
  @Test
  void anObjectFromANewerCrdFailsAloneWhileEveryOtherObjectIsServed() throws Exception {
    installCrds();
    agentReports(
        client
            .resource(
                new PodBuilder()
                    .withNewMetadata()
                    .withName("gpu-workload")
                    .withNamespace("default")
                    .endMetadata()
                    .withNewSpec()
                    .withNodeName("node-a")
                    .endSpec()
                    .withNewStatus()
                    .withPhase("Running")
                    .endStatus()
                    .build())
            .create());
    createRaw(
        VfioSnapshot.class,
        "newer-at-start",
        "{\"podName\": \"gpu-workload\", \"compression\": \"Gzip\"}");
    createRaw(
        VfioMigration.class,
        "newer-migration",
        "{\"source\": {\"podName\": \"gpu-workload\"}, \"targetPodName\": \"gpu-target\", \"transport\": \"Rdma\"}");
    createRaw(VfioSnapshot.class, "good-at-start", "{\"podName\": \"gpu-workload\"}");
    operator =
        new VfioOperator(
            client,
            OperatorConfig.fromEnvironment(
                Map.of(
                    "VFIO_HEALTH_PORT",
                    "-1",
                    "VFIO_TRANSPORT_SECRET",
                    "default/vfio-operator-transport")),
            Clock.systemUTC());
    operator.start();

    createRaw(
        VfioSnapshot.class,
        "newer-while-running",
        "{\"podName\": \"gpu-workload\", \"precopy\": {\"adaptive\": true}}");
    createRaw(VfioSnapshot.class, "good-while-running", "{\"podName\": \"gpu-workload\"}");

    assertFailedNaming(
        VfioSnapshot.class,
        "newer-at-start",
        "spec.compression: \"Gzip\" is not a value this operator knows");
    assertFailedNaming(
        VfioMigration.class,
        "newer-migration",
        "spec.transport: \"Rdma\" is not a value this operator knows");
    assertFailedNaming(
        VfioSnapshot.class,
        "newer-while-running",
        "spec.precopy.adaptive is not a field this operator knows");
    // Both are served: one runs, the other waits for the pod the first holds.
    await()
        .atMost(Duration.ofSeconds(60))
        .until(
            () -> Set.of(served("good-at-start"), served("good-while-running")),
            Set.of("Running", "Pending " + Reason.POD_BUSY)::equals);
  }

  /** The snapshot's phase, with the reason when it waits. */
  private String served(String name) {
    VfioSnapshot stored =
        client.resources(VfioSnapshot.class).inNamespace("default").withName(name).get();
    if (stored == null || stored.getStatus() == null || stored.getStatus().getPhase() == null) {
      return null;
    }
    String phase = stored.getStatus().getPhase().name();
    return phase.equals("Pending")
        ? phase
            + " "
            + Conditions.find(stored.getStatus().getConditions(), Conditions.READY).getReason()
        : phase;
  }

  private void installCrds() throws Exception {
    for (String crd : List.of("vfiosnapshots", "vfiomigrations", "vfionodetasks", "vfionodes")) {
      try (InputStream manifest =
          getClass().getResourceAsStream("/vfio-crds/" + crd + ".vfio.dev.yaml")) {
        client.resource(Serialization.unmarshal(manifest, CustomResourceDefinition.class)).create();
      }
    }
  }

  /**
   * Creates the object from JSON without the typed model, which could not hold what the spec has.
   */
  private void createRaw(Class<? extends HasMetadata> kind, String name, String spec) {
    GenericKubernetesResource resource =
        Serialization.unmarshal(
            """
        {"apiVersion": "%s", "kind": "%s", "metadata": {"name": "%s", "namespace": "default"}, "spec": %s}
        """
                .formatted(HasMetadata.getApiVersion(kind), HasMetadata.getKind(kind), name, spec),
            GenericKubernetesResource.class);
    client
        .genericKubernetesResources(ResourceDefinitionContext.fromResourceType(kind))
        .inNamespace("default")
        .resource(resource)
        .create();
  }

  private void assertFailedNaming(Class<? extends HasMetadata> kind, String name, String message) {
    await().atMost(Duration.ofSeconds(60)).until(() -> phase(kind, name), "Failed"::equals);
    Map<String, Object> ready = readyCondition(kind, name);
    assertEquals(Reason.INVALID_SPEC.wire(), ready.get("reason"));
    assertTrue(
        String.valueOf(ready.get("message")).startsWith(message),
        String.valueOf(ready.get("message")));
  }

  /**
   * Read without the typed model too, so that the assertions hold whatever it makes of the object.
   */
  private String phase(Class<? extends HasMetadata> kind, String name) {
    Object phase = raw(kind, name).get("status", "phase");
    return phase == null ? null : phase.toString();
  }

  private Map<String, Object> readyCondition(Class<? extends HasMetadata> kind, String name) {
    List<Map<String, Object>> conditions = raw(kind, name).get("status", "conditions");
    return conditions.stream()
        .filter(c -> Conditions.READY.equals(c.get("type")))
        .findFirst()
        .orElseThrow();
  }

  private GenericKubernetesResource raw(Class<? extends HasMetadata> kind, String name) {
    return client
        .genericKubernetesResources(ResourceDefinitionContext.fromResourceType(kind))
        .inNamespace("default")
        .withName(name)
        .get();
  }

  /**
   * node-a's VfioNode, its inventory taken after the pod started, the pod holding one migratable
   * device.
   */
  private void agentReports(Pod pod) {
    VfioNode node = new VfioNode();
    node.setMetadata(new ObjectMetaBuilder().withName("node-a").build());
    VfioNode created = client.resource(node).create();
    VfioNodeStatus status = new VfioNodeStatus();
    status.setHeartbeatTime(Instant.now().plusSeconds(10).toString());
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
