package dev.vfio.e2e;

import dev.vfio.api.v1alpha1.VfioSnapshot;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * A cluster on one machine: the Fabric8 mock API server in CRUD mode with the shipped CRDs,
 * the operator, and simulated nodes each with its own agent and directories — every component a
 * separate process started through its real main class and configuration. Without a scheduler
 * or kubelet, pods are created as they look once running.
 */
public final class LocalCluster implements AutoCloseable {
  public static final String STORAGE_CLAIM = "vfio-snapshots";
  private static final List<String> CRDS = List.of(
      "vfiosnapshots", "vfiomigrations", "vfionodetasks", "vfionodes");

  /** Held so the level sticks: JUL keeps only weak references to configured loggers. */
  private static final java.util.logging.Logger MOCK_LOG = quiet("io.fabric8.mockwebserver");

  private final KubernetesMockServer server;
  private final ApiRequestCounts requests;
  private final KubernetesClient client;
  private final Path workDirectory;
  private final Path storage;
  private final Map<String, SimulatedNode> nodes = new LinkedHashMap<>();
  private ManagedProcess operator;

  private LocalCluster(Path workDirectory) throws IOException {
    this.workDirectory = workDirectory;
    this.storage = Files.createDirectories(workDirectory.resolve("storage").resolve(STORAGE_CLAIM));
    Files.createDirectories(workDirectory.resolve("logs"));
    requests = new ApiRequestCounts(new NodeFieldSelectors(new KubernetesCrudDispatcher()));
    server = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(), requests, false);
    server.init(InetAddress.getLoopbackAddress(), 0);
    client = server.createClient();
    for (String crd : CRDS) {
      try (InputStream manifest = LocalCluster.class.getResourceAsStream("/vfio-crds/" + crd + ".vfio.dev.yaml")) {
        client.resource(Serialization.unmarshal(manifest, CustomResourceDefinition.class)).create();
      }
    }
  }

  public static LocalCluster start(Path workDirectory) throws IOException {
    return new LocalCluster(workDirectory);
  }

  public KubernetesClient client() {
    return client;
  }

  /** The requests the API server answered, by caller (User-Agent), verb and resource. */
  public ApiRequestCounts requests() {
    return requests;
  }

  public String apiServerUrl() {
    return "http://127.0.0.1:" + server.getPort();
  }

  /** The ReadWriteMany claim every agent mounts. */
  public Path storage() {
    return storage;
  }

  public Path workDirectory() {
    return workDirectory;
  }

  /** Environment that points a Fabric8 client at this API server and nowhere else. */
  public Map<String, String> clientEnvironment() {
    Map<String, String> env = new HashMap<>();
    env.put("KUBERNETES_MASTER", apiServerUrl());
    env.put("KUBERNETES_AUTH_TRYKUBECONFIG", "false");
    env.put("KUBERNETES_AUTH_TRYSERVICEACCOUNT", "false");
    env.put("KUBERNETES_NAMESPACE", "default");
    env.put("KUBERNETES_TRUST_CERTIFICATES", "true");
    env.put("VFIO_TRANSPORT_SECRET", "default/vfio-operator-transport");
    return env;
  }

  public synchronized ManagedProcess startOperator(Map<String, String> extra) throws IOException {
    if (operator == null) {
      Map<String, String> env = clientEnvironment();
      env.put("KUBERNETES_USER_AGENT", "vfio-operator");
      env.put("VFIO_DEFAULT_STORAGE_CLAIM", STORAGE_CLAIM);
      env.put("VFIO_HEALTH_PORT", "0");
      env.put("VFIO_AGENT_HEARTBEAT_TIMEOUT", "30s");
      env.putAll(extra);
      operator = new ManagedProcess("operator", "dev.vfio.operator.VfioOperator", env,
          workDirectory.resolve("logs").resolve("operator.log"));
    }
    return operator.start();
  }

  public ManagedProcess operator() {
    return operator;
  }

  /** Adds a node with simulated devices and starts its agent. */
  public SimulatedNode addNode(String name, List<SimulatedNode.Device> devices) throws IOException {
    return addNode(name, devices, Map.of());
  }

  /** Adds a node whose agent runs with {@code environment} over the harness's settings. */
  public SimulatedNode addNode(String name, List<SimulatedNode.Device> devices, Map<String, String> environment)
      throws IOException {
    SimulatedNode node = new SimulatedNode(this, name, devices, environment);
    nodes.put(name, node);
    node.agent().start();
    return node;
  }

  public SimulatedNode node(String name) {
    return nodes.get(name);
  }

  public List<SimulatedNode> nodes() {
    return List.copyOf(nodes.values());
  }

  /** A pod as it looks once scheduled and running, holding the given simulated devices. */
  public Pod runningPod(String namespace, String name, String node, String... devices) {
    Map<String, String> annotations = new HashMap<>();
    if (devices.length > 0) {
      annotations.put("vfio.dev/simulated-devices", String.join(",", devices));
    }
    Pod pod = new PodBuilder()
        .withNewMetadata().withNamespace(namespace).withName(name)
        .withUid(UUID.randomUUID().toString()).withAnnotations(annotations)
        .withLabels(Map.of(NodeFieldSelectors.NODE_LABEL, node)).endMetadata()
        .withNewSpec().withNodeName(node)
        .addNewContainer().withName("workload").withImage("registry.example/gpu-workload:1").endContainer()
        .endSpec()
        .withNewStatus().withPhase("Running").withStartTime(Instant.now().toString())
        .withContainerStatuses(new ContainerStatusBuilder().withName("workload").withReady(true)
            .withNewState().withNewRunning().withStartedAt(Instant.now().toString()).endRunning().endState()
            .build())
        .endStatus()
        .build();
    return client.resource(pod).create();
  }

  public VfioSnapshot snapshot(String namespace, String name) {
    return client.resources(VfioSnapshot.class).inNamespace(namespace).withName(name).get();
  }

  @Override
  public void close() {
    if (operator != null) {
      operator.close();
    }
    for (SimulatedNode node : nodes.values()) {
      node.agent().close();
    }
    client.close();
    server.destroy();
  }

  private static java.util.logging.Logger quiet(String name) {
    java.util.logging.Logger logger = java.util.logging.Logger.getLogger(name);
    logger.setLevel(java.util.logging.Level.WARNING);
    return logger;
  }
}
