package dev.vfio.e2e;

import static org.awaitility.Awaitility.await;

import dev.vfio.api.v1alpha1.VfioSnapshot;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodStatusBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A cluster on one machine: a real kube-apiserver and etcd (see {@link ApiServer}) with the shipped
 * CRDs and the Helm chart's ServiceAccounts and roles, the operator, and simulated nodes each with
 * its own agent and directories — every component a separate process started through its real main
 * class and configuration, authenticated as its own ServiceAccount. Without a scheduler or kubelet,
 * the harness binds pods to nodes and writes their status as a kubelet would.
 *
 * <p>Past 300 lines: it stands in for a whole cluster's control plane and kubelets, and the tests
 * reach all of it through this one object.
 */
public final class LocalCluster implements AutoCloseable {
  public static final String STORAGE_CLAIM = "vfio-snapshots";
  private static final List<String> CRDS =
      List.of(
          "vfiosnapshots", "vfiomigrations", "vfionodetasks", "vfionodes", "vfiosnapshotschedules");
  private static final Duration ESTABLISHED = Duration.ofSeconds(60);

  private final SourceTree source;
  private final ApiServer apiServer;
  private final ChartRoles roles;
  private final ApiRequestCounts requests;
  private final KubernetesClient client;
  private final Path workDirectory;
  private final Path storage;
  private final Map<String, SimulatedNode> nodes = new LinkedHashMap<>();
  private ManagedProcess operator;

  private LocalCluster(SourceTree source, Path workDirectory) throws IOException {
    this.source = source;
    this.workDirectory = workDirectory;
    this.storage = Files.createDirectories(workDirectory.resolve("storage").resolve(STORAGE_CLAIM));
    Files.createDirectories(workDirectory.resolve("logs"));
    apiServer = ApiServer.start(source, workDirectory);
    try {
      client = apiServer.adminClient();
      for (String crd : CRDS) {
        try (InputStream manifest =
            LocalCluster.class.getResourceAsStream("/vfio-crds/" + crd + ".vfio.dev.yaml")) {
          client
              .resource(Serialization.unmarshal(manifest, CustomResourceDefinition.class))
              .create();
        }
        String name = crd + ".vfio.dev";
        await("CRD " + name + " Established")
            .atMost(ESTABLISHED)
            .pollInterval(Duration.ofMillis(100))
            .until(
                () ->
                    established(
                        client
                            .apiextensions()
                            .v1()
                            .customResourceDefinitions()
                            .withName(name)
                            .get()));
      }
      roles = ChartRoles.install(client, source);
      requests = new ApiRequestCounts(apiServer.auditLog());
    } catch (RuntimeException | IOException e) {
      apiServer.close();
      throw e;
    }
  }

  /**
   * Starts the API server of the repository the current directory is in, and installs the CRDs and
   * roles.
   */
  public static LocalCluster start(Path workDirectory) throws IOException {
    return new LocalCluster(SourceTree.current(), workDirectory);
  }

  public KubernetesClient client() {
    return client;
  }

  /**
   * A client authenticated with {@code token} and nothing else (no kubeconfig, no mounted
   * ServiceAccount), as a component or an intruder holding that token would be; close it after use.
   */
  public KubernetesClient clientAs(String token) {
    return new KubernetesClientBuilder()
        .withConfig(
            new ConfigBuilder(Config.empty())
                .withMasterUrl(apiServerUrl())
                .withOauthToken(token)
                .withCaCertFile(apiServer.certificateAuthority().toString())
                .build())
        .build();
  }

  /**
   * The operator's client: its ServiceAccount is the only identity the chart lets create
   * VfioNodeTasks.
   */
  public KubernetesClient operatorClient() {
    return clientAs(roles.operatorToken());
  }

  /** The requests the API server answered, by caller (User-Agent), verb and resource. */
  public ApiRequestCounts requests() {
    return requests;
  }

  public String apiServerUrl() {
    return apiServer.url();
  }

  /** The administrator's kubeconfig ({@code system:masters}), for kubectl. */
  public Path kubeconfig() {
    return apiServer.kubeconfig();
  }

  /** kubectl, as the administrator of this cluster. */
  public Kubectl kubectl() throws IOException {
    return new Kubectl(KubernetesBinaries.kubectl(source), apiServer.kubeconfig());
  }

  /** The repository the cluster's CRDs, chart and Kubernetes release come from. */
  public SourceTree source() {
    return source;
  }

  /** The ReadWriteMany claim every agent mounts. */
  public Path storage() {
    return storage;
  }

  public Path workDirectory() {
    return workDirectory;
  }

  /**
   * Environment that points a component's Fabric8 client at this API server and nowhere else,
   * authenticated with {@code token} and verifying the server's certificate.
   */
  Map<String, String> componentEnvironment(String token) {
    Map<String, String> env = new HashMap<>();
    env.put("KUBERNETES_MASTER", apiServerUrl());
    env.put("KUBERNETES_AUTH_TOKEN", token);
    env.put("KUBERNETES_CERTS_CA_FILE", apiServer.certificateAuthority().toString());
    env.put("KUBERNETES_AUTH_TRYKUBECONFIG", "false");
    env.put("KUBERNETES_AUTH_TRYSERVICEACCOUNT", "false");
    env.put("KUBERNETES_NAMESPACE", ChartRoles.NAMESPACE);
    return env;
  }

  /**
   * Environment of {@code node}'s agent: its client authenticated as the chart's agent
   * ServiceAccount on that node.
   */
  Map<String, String> agentEnvironment(String node) {
    return agentEnvironment(node, ChartRoles.AGENT_POD_IP);
  }

  /**
   * {@link #agentEnvironment(String)} of an agent whose pod, where it listens, is at {@code podIp}.
   */
  Map<String, String> agentEnvironment(String node, String podIp) {
    Map<String, String> env = componentEnvironment(roles.agentToken(node, podIp));
    env.put("VFIO_BLOB_KEY_FILE", blobKeyFile().toString());
    // The ConfigMap with the stream CA's certificate bears the name of the operator's CA Secret.
    env.put("VFIO_TRANSPORT_CA", roles.operatorSettings().get("VFIO_TRANSPORT_SECRET"));
    env.put("POD_IP", podIp);
    return env;
  }

  /**
   * Where the agents find the blob key: the file the kubelet would project from the operator's
   * Secret, written by {@link #startOperator} once the operator made it.
   */
  public Path blobKeyFile() {
    return workDirectory.resolve("blob-key").resolve("blob.key");
  }

  /** Does what the kubelet does for the agent pods' blob key volume, once the Secret exists. */
  private void mountBlobKey() throws IOException {
    String[] secret = roles.operatorSettings().get("VFIO_BLOB_KEY_SECRET").split("/", 2);
    Map<String, String> keys =
        await("blob key Secret " + secret[0] + "/" + secret[1])
            .atMost(ESTABLISHED)
            .pollInterval(Duration.ofMillis(200))
            .until(
                () -> {
                  Secret made = client.secrets().inNamespace(secret[0]).withName(secret[1]).get();
                  return made == null ? null : made.getData();
                },
                Objects::nonNull);
    Files.createDirectories(blobKeyFile().getParent());
    for (Map.Entry<String, String> entry : keys.entrySet()) {
      // Whole files, moved into place, as the kubelet swaps its ..data link: an agent reading
      // meanwhile sees a key or none, never part of one.
      Path written = blobKeyFile().resolveSibling(".writing");
      Files.write(written, Base64.getDecoder().decode(entry.getValue()));
      Files.move(
          written,
          blobKeyFile().resolveSibling(entry.getKey()),
          StandardCopyOption.REPLACE_EXISTING,
          StandardCopyOption.ATOMIC_MOVE);
    }
  }

  /**
   * Does what the kubelet does, within a minute, for a running agent pod whose blob key Secret
   * changed (a rotation): the volume shows the Secret's entries as they are now.
   */
  public void refreshBlobKey() throws IOException {
    mountBlobKey();
  }

  /** The identities and roles the chart gives the components. */
  public ChartRoles roles() {
    return roles;
  }

  public synchronized ManagedProcess startOperator(Map<String, String> extra) throws IOException {
    if (operator == null) {
      Map<String, String> env = componentEnvironment(roles.operatorToken());
      env.putAll(roles.operatorSettings());
      env.put("KUBERNETES_USER_AGENT", "vfio-operator");
      env.put("VFIO_DEFAULT_STORAGE_CLAIM", STORAGE_CLAIM);
      env.put("VFIO_HEALTH_PORT", "0");
      env.put("VFIO_AGENT_HEARTBEAT_TIMEOUT", "30s");
      env.putAll(extra);
      operator =
          new ManagedProcess(
              "operator",
              "dev.vfio.operator.VfioOperator",
              env,
              workDirectory.resolve("logs").resolve("operator.log"));
    }
    ManagedProcess started = operator.start();
    mountBlobKey();
    return started;
  }

  public ManagedProcess operator() {
    return operator;
  }

  /** Adds a node with simulated devices and starts its agent. */
  public SimulatedNode addNode(String name, List<SimulatedNode.Device> devices) throws IOException {
    return addNode(name, devices, Map.of());
  }

  /** Adds a node whose agent runs with {@code environment} over the harness's settings. */
  public SimulatedNode addNode(
      String name, List<SimulatedNode.Device> devices, Map<String, String> environment)
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

  /**
   * A pod as the scheduler and the kubelet leave it: bound to {@code node}, Running, its container
   * ready, holding the given simulated devices. The namespace is created if it is missing.
   */
  public Pod runningPod(String namespace, String name, String node, String... devices) {
    Map<String, String> annotations = new HashMap<>();
    if (devices.length > 0) {
      annotations.put("vfio.dev/simulated-devices", String.join(",", devices));
    }
    return runningPod(
        new PodBuilder()
            .withNewMetadata()
            .withNamespace(namespace)
            .withName(name)
            .withAnnotations(annotations)
            .endMetadata()
            .withNewSpec()
            .withNodeName(node)
            .addNewContainer()
            .withName("workload")
            .withImage("registry.example/gpu-workload:1")
            .endContainer()
            .endSpec()
            .build());
  }

  /**
   * {@code pod} created bound to its {@code spec.nodeName}, then given the status a kubelet would
   * write.
   */
  public Pod runningPod(Pod pod) {
    ensureNamespace(pod.getMetadata().getNamespace());
    Pod created = client.resource(pod).create();
    String now = Instant.now().toString();
    List<ContainerStatus> statuses =
        created.getSpec().getContainers().stream()
            .map(
                c ->
                    new ContainerStatusBuilder()
                        .withName(c.getName())
                        .withImage(c.getImage())
                        .withImageID("")
                        .withContainerID(
                            "containerd://" + created.getMetadata().getUid() + "-" + c.getName())
                        .withReady(true)
                        .withStarted(true)
                        .withRestartCount(0)
                        .withNewState()
                        .withNewRunning()
                        .withStartedAt(now)
                        .endRunning()
                        .endState()
                        .build())
            .toList();
    created.setStatus(
        new PodStatusBuilder()
            .withPhase("Running")
            .withStartTime(now)
            .withHostIP("127.0.0.1")
            .withPodIP("127.0.0.1")
            .addNewCondition()
            .withType("Ready")
            .withStatus("True")
            .withLastTransitionTime(now)
            .endCondition()
            .withContainerStatuses(statuses)
            .build());
    return client.resource(created).updateStatus();
  }

  /**
   * Deletes a pod at once, as a kubelet confirms the deletion of a pod whose containers stopped.
   */
  public void deletePod(String namespace, String name) {
    client.pods().inNamespace(namespace).withName(name).withGracePeriod(0).delete();
  }

  public void ensureNamespace(String namespace) {
    if (client.namespaces().withName(namespace).get() == null) {
      client
          .resource(
              new NamespaceBuilder().withNewMetadata().withName(namespace).endMetadata().build())
          .serverSideApply();
    }
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
    apiServer.close();
  }

  private static boolean established(CustomResourceDefinition crd) {
    return crd != null
        && crd.getStatus() != null
        && crd.getStatus().getConditions() != null
        && crd.getStatus().getConditions().stream()
            .anyMatch(c -> c.getType().equals("Established") && c.getStatus().equals("True"));
  }
}
