package dev.vfio.helm;

import static dev.vfio.helm.RenderedChart.container;
import static dev.vfio.helm.RenderedChart.environment;
import static dev.vfio.helm.RenderedChart.mountAt;
import static dev.vfio.helm.RenderedChart.mounts;
import static dev.vfio.helm.RenderedChart.volume;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vfio.agent.AgentConfig;
import dev.vfio.agent.sim.SimulatedDeviceSpec;
import dev.vfio.agent.sim.SimulatedDevices;
import dev.vfio.operator.config.OperatorConfig;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Toleration;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AgentDaemonSetTest {
  private static final String NODE = "gpu-node-7";

  /**
   * The defaults: the kernel backend on real VFIO nodes, one ReadWriteMany claim the chart creates.
   */
  @Nested
  class KernelBackendByDefault {
    private final RenderedChart chart = RenderedChart.render();
    private final PodSpec pod = chart.agentDaemonSet().getSpec().getTemplate().getSpec();
    private final Container agent = container(pod, "agent");

    @Test
    void agentIsNotPrivilegedAndHoldsOnlyTheCapabilitiesTheKernelBackendNeeds() {
      var security = agent.getSecurityContext();
      assertNull(security.getPrivileged());
      assertEquals(List.of("ALL"), security.getCapabilities().getDrop());
      // SYS_PTRACE: pidfd_getfd and /proc/<pid>/fd; DAC_READ_SEARCH: /proc/<pid>/fd of non-root
      // workloads.
      assertEquals(
          Set.of("SYS_PTRACE", "DAC_READ_SEARCH"), Set.copyOf(security.getCapabilities().getAdd()));
      assertEquals(Boolean.FALSE, security.getAllowPrivilegeEscalation());
      assertEquals(Boolean.TRUE, security.getReadOnlyRootFilesystem());
      assertEquals(0L, security.getRunAsUser());
      assertEquals("RuntimeDefault", pod.getSecurityContext().getSeccompProfile().getType());
    }

    @Test
    void probesAndPrometheusAskTheAgentsEndpointsOnItsHealthPort() {
      int port = AgentConfig.fromEnvironment(environment(agent, NODE)).healthPort();
      assertEquals(port, agent.getPorts().get(0).getContainerPort());
      assertEquals("health", agent.getPorts().get(0).getName());
      assertEquals("/healthz", agent.getStartupProbe().getHttpGet().getPath());
      assertEquals("/healthz", agent.getLivenessProbe().getHttpGet().getPath());
      assertEquals("/readyz", agent.getReadinessProbe().getHttpGet().getPath());
      for (var probe :
          List.of(agent.getStartupProbe(), agent.getLivenessProbe(), agent.getReadinessProbe())) {
        assertEquals("health", probe.getHttpGet().getPort().getStrVal());
      }
      Map<String, String> annotations =
          chart.agentDaemonSet().getSpec().getTemplate().getMetadata().getAnnotations();
      assertEquals("true", annotations.get("prometheus.io/scrape"));
      assertEquals(String.valueOf(port), annotations.get("prometheus.io/port"));
      assertEquals("/metrics", annotations.get("prometheus.io/path"));
    }

    @Test
    void agentSharesTheHostPidNamespaceToReachTheWorkloadsProcesses() {
      assertEquals(Boolean.TRUE, pod.getHostPID());
      assertNull(pod.getHostNetwork());
      assertNull(pod.getHostIPC());
    }

    @Test
    void agentMountsTheHostsVfioSysfsAndWritableCgroupTree() {
      assertHostPath("/dev/vfio", "/dev/vfio", false);
      assertHostPath("/sys", "/sys", true);
      assertHostPath("/sys/fs/cgroup", "/sys/fs/cgroup", false);
      assertHostPath("/var/lib/vfio-operator/journal", "/var/lib/vfio-operator/journal", false);
      assertFalse(mounts(agent, "/etc/vfio-operator/simulated"));
    }

    @Test
    void nodeNameComesFromTheDownwardApi() {
      var nodeName =
          agent.getEnv().stream()
              .filter(e -> e.getName().equals("NODE_NAME"))
              .findFirst()
              .orElseThrow();
      assertEquals("spec.nodeName", nodeName.getValueFrom().getFieldRef().getFieldPath());
    }

    @Test
    void agentConfigurationReadsTheRenderedEnvironmentAndFindsEveryClaimMounted() {
      AgentConfig config = AgentConfig.fromEnvironment(environment(agent, NODE));

      assertEquals(NODE, config.nodeName());
      assertEquals("kernel", config.backend());
      assertEquals(
          Map.of("vfio-snapshots", Path.of("/var/lib/vfio-operator/claims/vfio-snapshots")),
          config.storageClaims());
      assertEquals("vfio-snapshots", claimBehind(config.storageClaims().get("vfio-snapshots")));
      assertTrue(mounts(agent, config.journalDirectory().toString()));
    }

    @Test
    void agentsReadTheCaTheOperatorPublishesAndAdvertiseTheirPodIp() {
      AgentConfig agentConfig = AgentConfig.fromEnvironment(environment(agent, NODE));
      Container operator =
          container(chart.operatorDeployment().getSpec().getTemplate().getSpec(), "operator");
      OperatorConfig operatorConfig = OperatorConfig.fromEnvironment(environment(operator, NODE));

      assertEquals(
          RenderedChart.NAMESPACE + "/vfio-operator-transport", operatorConfig.transportSecret());
      assertEquals(operatorConfig.transportSecret(), agentConfig.transportCa());
      assertEquals(
          RenderedChart.NAMESPACE
              + "/"
              + chart.agentDaemonSet().getSpec().getTemplate().getSpec().getServiceAccountName(),
          operatorConfig.agentServiceAccount(),
          "the operator signs for the agents' ServiceAccount only");
      assertEquals(java.time.Duration.ofHours(24), operatorConfig.transportCertificateValidity());
      assertEquals(RenderedChart.POD_IP, agentConfig.advertisedHost());
      assertEquals(java.time.Duration.ofSeconds(30), agentConfig.transferIdleTimeout());
    }

    @Test
    void agentsMountTheBlobKeySecretTheOperatorKeepsReadOnlyAndRefuseUnsealedBlobs() {
      AgentConfig agentConfig = AgentConfig.fromEnvironment(environment(agent, NODE));
      Container operator =
          container(chart.operatorDeployment().getSpec().getTemplate().getSpec(), "operator");
      OperatorConfig operatorConfig = OperatorConfig.fromEnvironment(environment(operator, NODE));

      assertEquals(
          RenderedChart.NAMESPACE + "/vfio-operator-blob-key", operatorConfig.blobKeySecret());
      VolumeMount mount = mountAt(agent, agentConfig.blobKeyFile().getParent().toString());
      assertTrue(Boolean.TRUE.equals(mount.getReadOnly()), "the key is mounted read-only");
      Volume key = volume(pod, mount.getName());
      assertEquals("vfio-operator-blob-key", key.getSecret().getSecretName());
      assertEquals("blob.key", agentConfig.blobKeyFile().getFileName().toString());
      assertFalse(agentConfig.acceptUnauthenticatedBlobs());
    }

    @Test
    void theDefaultClaimIsCreatedReadWriteManyAndKeptOnUninstall() {
      PersistentVolumeClaim claim = chart.one(PersistentVolumeClaim.class, "vfio-snapshots");

      assertEquals(List.of("ReadWriteMany"), claim.getSpec().getAccessModes());
      assertEquals(
          new Quantity("50Gi"), claim.getSpec().getResources().getRequests().get("storage"));
      assertNull(claim.getSpec().getStorageClassName(), "the cluster's default class");
      assertEquals("keep", claim.getMetadata().getAnnotations().get("helm.sh/resource-policy"));
      assertEquals(RenderedChart.NAMESPACE, claim.getMetadata().getNamespace());
    }

    @Test
    void noSimulatedDevicesWithTheKernelBackend() {
      assertTrue(chart.all(ConfigMap.class).isEmpty());
    }

    @Test
    void extraCapabilitiesAreAddedAndSysAdminLiftsNoNewPrivileges() {
      RenderedChart more =
          RenderedChart.render(c -> c.set("agent.extraCapabilities[0]", "SYS_ADMIN"));
      var security =
          container(more.agentDaemonSet().getSpec().getTemplate().getSpec(), "agent")
              .getSecurityContext();

      assertEquals(
          Set.of("SYS_PTRACE", "DAC_READ_SEARCH", "SYS_ADMIN"),
          Set.copyOf(security.getCapabilities().getAdd()));
      // The API server refuses allowPrivilegeEscalation=false next to CAP_SYS_ADMIN.
      assertEquals(Boolean.TRUE, security.getAllowPrivilegeEscalation());
    }

    @Test
    void nodesThatEnforceAppArmorOrSelinuxCanGiveTheAgentItsOwnProfile() {
      PodSpec confined =
          RenderedChart.render(
                  c ->
                      c.set("agent.appArmorProfile.type", "Unconfined")
                          .set("agent.seLinuxOptions.type", "spc_t"))
              .agentDaemonSet()
              .getSpec()
              .getTemplate()
              .getSpec();

      assertEquals("Unconfined", confined.getSecurityContext().getAppArmorProfile().getType());
      assertEquals("spc_t", confined.getSecurityContext().getSeLinuxOptions().getType());
      assertNull(pod.getSecurityContext().getAppArmorProfile(), "the node's default unless asked");
    }

    @Test
    void theAgentRunsOnlyOnNodesLabelledAsVfioNodesUnlessTheLabelIsCleared() {
      assertEquals(
          Map.of("vfio.feature.node.kubernetes.io/capable", "true"), pod.getNodeSelector());

      PodSpec anywhere =
          RenderedChart.render(c -> c.set("agent.vfioNodeLabel", ""))
              .agentDaemonSet()
              .getSpec()
              .getTemplate()
              .getSpec();
      assertTrue(
          anywhere.getNodeSelector() == null || anywhere.getNodeSelector().isEmpty(),
          "no selector: the admin chose nodes some other way");

      PodSpec both =
          RenderedChart.render(c -> c.set("agent.nodeSelector.pool", "gpu"))
              .agentDaemonSet()
              .getSpec()
              .getTemplate()
              .getSpec();
      assertEquals(
          Map.of("vfio.feature.node.kubernetes.io/capable", "true", "pool", "gpu"),
          both.getNodeSelector());
    }

    @Test
    void nodeFeatureDiscoveryLabelsTheNodesWithAMigrationCapableVfioDriverOnlyWhenAsked() {
      assertTrue(
          chart.all(GenericKubernetesResource.class).stream()
              .noneMatch(r -> "NodeFeatureRule".equals(r.getKind())),
          "NFD may not be installed: no rule by default");

      GenericKubernetesResource rule =
          RenderedChart.render(c -> c.set("nodeFeatureDiscovery.rule.enabled", "true"))
              .all(GenericKubernetesResource.class)
              .stream()
              .filter(r -> "NodeFeatureRule".equals(r.getKind()))
              .findFirst()
              .orElseThrow();
      assertEquals("nfd.k8s-sigs.io/v1alpha1", rule.getApiVersion());
      String yaml = Serialization.asYaml(rule.getAdditionalProperties().get("spec"));
      assertTrue(yaml.contains("vfio.feature.node.kubernetes.io/capable: \"true\""), yaml);
      assertTrue(yaml.contains("vfio_pci_core:") && yaml.contains("mdev:"), yaml);
    }

    private void assertHostPath(String mountPath, String hostPath, boolean readOnly) {
      VolumeMount mount = mountAt(agent, mountPath);
      Volume source = volume(pod, mount.getName());
      assertEquals(
          hostPath,
          source.getHostPath() == null ? null : source.getHostPath().getPath(),
          mountPath);
      assertEquals(readOnly, Boolean.TRUE.equals(mount.getReadOnly()), mountPath + " read-only");
    }

    private String claimBehind(Path mountPath) {
      return volume(pod, mountAt(agent, mountPath.toString()).getName())
          .getPersistentVolumeClaim()
          .getClaimName();
    }
  }

  /** A kind-like setup: simulated devices, a second claim that exists already, tolerations. */
  @Nested
  class SimulatedBackendWithTwoClaims {
    private static final String VALUES =
        """
        agent:
          backend: simulated
          nodeSelector:
            vfio.dev/capable: "true"
          tolerations:
            - key: nvidia.com/gpu
              operator: Exists
              effect: NoSchedule
            - key: node-role.kubernetes.io/control-plane
              operator: Exists
              effect: NoSchedule
          simulated:
            devices:
              - address: "0000:65:00.0"
                driver: mlx5_vfio_pci
                vendorId: "15b3"
                deviceId: "101e"
                stateBytes: 1048576
                flags: [STOP_COPY, P2P, PRE_COPY]
                dirtyBytesPerRound: 65536
                faults:
                  arcs:
                    - {from: STOP, to: STOP_COPY, errno: EIO, leaveInError: true}
              - address: "0000:65:00.1"
        storage:
          defaultClaim: nvme
          claims:
            - name: vfio-snapshots
              accessModes: [ReadWriteMany]
              size: 200Gi
              storageClassName: cephfs
              keepOnUninstall: false
            - name: nvme
              existingClaim: nvme-snapshots
        """;

    private final RenderedChart chart;
    private final PodSpec pod;
    private final Container agent;

    SimulatedBackendWithTwoClaims(@TempDir Path directory) throws IOException {
      Path values = Files.writeString(directory.resolve("values.yaml"), VALUES);
      chart = RenderedChart.render(c -> c.withValuesFile(values));
      pod = chart.agentDaemonSet().getSpec().getTemplate().getSpec();
      agent = container(pod, "agent");
    }

    @Test
    void simulatedAgentNeedsNoHostPidNoCapabilitiesAndNoHostDevices() {
      assertNull(pod.getHostPID());
      assertTrue(agent.getSecurityContext().getCapabilities().getAdd().isEmpty());
      assertEquals(List.of("ALL"), agent.getSecurityContext().getCapabilities().getDrop());
      for (String path : List.of("/dev/vfio", "/sys", "/sys/fs/cgroup")) {
        assertFalse(mounts(agent, path), path);
      }
    }

    @Test
    void theDeviceListReachesTheAgentInItsOwnFormat() {
      AgentConfig config = AgentConfig.fromEnvironment(environment(agent, NODE));
      assertEquals("simulated", config.backend());

      // VFIO_SIM_DEVICES names a file of the mounted ConfigMap.
      Path devicesFile = config.simulatedDevices();
      VolumeMount mount = mountAt(agent, devicesFile.getParent().toString());
      ConfigMap devices =
          chart.one(ConfigMap.class, volume(pod, mount.getName()).getConfigMap().getName());
      String json = devices.getData().get(devicesFile.getFileName().toString());

      List<SimulatedDeviceSpec> specs = SimulatedDevices.parse(json);
      assertEquals(
          List.of("0000:65:00.0", "0000:65:00.1"),
          specs.stream().map(SimulatedDeviceSpec::address).toList());
      assertEquals("mlx5_vfio_pci", specs.get(0).driver());
      assertEquals(1048576, specs.get(0).stateBytes());
      assertTrue(specs.get(0).flags().preCopy());
      assertFalse(specs.get(0).faults().arcs().isEmpty());

      // The simulated devices' state outlives the agent pod, on the node.
      Volume state = volume(pod, mountAt(agent, config.simulationDirectory().toString()).getName());
      assertEquals("/var/lib/vfio-operator/simulation", state.getHostPath().getPath());
    }

    @Test
    void everyClaimIsMountedWhereVfioStorageClaimsSaysAndTheExistingOneIsUsedAsIs() {
      AgentConfig config = AgentConfig.fromEnvironment(environment(agent, NODE));
      Map<String, String> pvcByClaim = new LinkedHashMap<>();
      config
          .storageClaims()
          .forEach(
              (claim, path) ->
                  pvcByClaim.put(
                      claim,
                      volume(pod, mountAt(agent, path.toString()).getName())
                          .getPersistentVolumeClaim()
                          .getClaimName()));

      assertEquals(
          Map.of("vfio-snapshots", "vfio-snapshots", "nvme", "nvme-snapshots"), pvcByClaim);
      // Only the claim without existingClaim is created.
      assertEquals(
          List.of("vfio-snapshots"),
          chart.all(PersistentVolumeClaim.class).stream()
              .map(c -> c.getMetadata().getName())
              .toList());
      PersistentVolumeClaim created = chart.one(PersistentVolumeClaim.class, "vfio-snapshots");
      assertEquals("cephfs", created.getSpec().getStorageClassName());
      assertEquals(
          new Quantity("200Gi"), created.getSpec().getResources().getRequests().get("storage"));
      assertTrue(created.getMetadata().getAnnotations().isEmpty(), "keepOnUninstall: false");
    }

    @Test
    void theOperatorDefaultsToTheConfiguredClaim() {
      Container operator =
          container(chart.operatorDeployment().getSpec().getTemplate().getSpec(), "operator");
      assertEquals(
          "nvme",
          OperatorConfig.fromEnvironment(environment(operator, NODE)).defaultStorageClaim());
    }

    @Test
    void nodeSelectorAndTolerationsComeFromTheValues() {
      assertEquals(Map.of("vfio.dev/capable", "true"), pod.getNodeSelector());
      assertEquals(
          List.of("nvidia.com/gpu", "node-role.kubernetes.io/control-plane"),
          pod.getTolerations().stream().map(Toleration::getKey).toList());
      assertTrue(
          pod.getTolerations().stream()
              .allMatch(
                  t -> "NoSchedule".equals(t.getEffect()) && "Exists".equals(t.getOperator())));
      assertTrue(
          chart.operatorDeployment().getSpec().getTemplate().getSpec().getTolerations().isEmpty(),
          "agent tolerations are the agent's only");
    }

    @Test
    void aNewDeviceListRollsTheAgents() throws IOException {
      String checksum =
          chart
              .agentDaemonSet()
              .getSpec()
              .getTemplate()
              .getMetadata()
              .getAnnotations()
              .get("checksum/simulated-devices");
      String other =
          RenderedChart.render(c -> c.set("agent.backend", "simulated"))
              .agentDaemonSet()
              .getSpec()
              .getTemplate()
              .getMetadata()
              .getAnnotations()
              .get("checksum/simulated-devices");
      assertNotEquals(checksum, other);
    }
  }

  /** The values file of the kind quickstart and the e2e workflow, with the example pods. */
  @Nested
  class KindValues {
    private final RenderedChart chart =
        RenderedChart.render(
            c -> c.withValuesFile(RenderedChart.CHART.resolve("ci/kind-values.yaml")));
    private final PodSpec pod = chart.agentDaemonSet().getSpec().getTemplate().getSpec();

    @Test
    void kindRunsTheSimulatedBackendOnLocallyBuiltImagesWithAReadWriteOnceClaim() {
      assertEquals(
          "simulated",
          AgentConfig.fromEnvironment(environment(container(pod, "agent"), NODE)).backend());
      assertEquals("vfio-node-agent:dev", container(pod, "agent").getImage());
      assertEquals(
          "vfio-operator:dev",
          container(chart.operatorDeployment().getSpec().getTemplate().getSpec(), "operator")
              .getImage());
      assertEquals(
          List.of("ReadWriteOnce"),
          chart.one(PersistentVolumeClaim.class, "vfio-snapshots").getSpec().getAccessModes());
    }

    @Test
    void theDefaultSimulatedDevicesAreTheOnesTheExamplePodsHold() throws IOException {
      ConfigMap devices =
          chart.one(ConfigMap.class, RenderedChart.RELEASE + "-agent-simulated-devices");
      Set<String> offered =
          SimulatedDevices.parse(devices.getData().get("devices.json")).stream()
              .map(SimulatedDeviceSpec::address)
              .collect(Collectors.toSet());

      Path sandbox = Path.of(System.getProperty("vfio.examples", "../examples")).resolve("sandbox");
      try (Stream<Path> files = Files.list(sandbox)) {
        List<Path> pods = files.filter(f -> f.toString().endsWith(".yaml")).toList();
        assertFalse(pods.isEmpty());
        for (Path file : pods) {
          Pod example = Serialization.unmarshal(Files.readString(file), Pod.class);
          for (String address :
              example.getMetadata().getAnnotations().get("vfio.dev/simulated-devices").split(",")) {
            assertTrue(
                offered.contains(address.trim()),
                file + " holds " + address + ", which no simulated node offers");
          }
        }
      }
    }
  }
}
