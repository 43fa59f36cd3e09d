package dev.vfio.helm;

import static dev.vfio.helm.RenderedChart.container;
import static dev.vfio.helm.RenderedChart.environment;
import static dev.vfio.helm.RenderedChart.mountAt;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vfio.operator.config.OperatorConfig;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class OperatorDeploymentTest {
  private final RenderedChart chart = RenderedChart.render();
  private final PodSpec pod = chart.operatorDeployment().getSpec().getTemplate().getSpec();
  private final Container operator = container(pod, "operator");

  @Test
  void operatorRunsUnderTheRestrictedPodSecurityStandard() {
    assertEquals(Boolean.TRUE, pod.getSecurityContext().getRunAsNonRoot());
    assertEquals("RuntimeDefault", pod.getSecurityContext().getSeccompProfile().getType());
    assertNull(pod.getHostPID());
    var security = operator.getSecurityContext();
    assertEquals(Boolean.FALSE, security.getAllowPrivilegeEscalation());
    assertEquals(Boolean.TRUE, security.getReadOnlyRootFilesystem());
    assertEquals(List.of("ALL"), security.getCapabilities().getDrop());
    assertTrue(security.getCapabilities().getAdd().isEmpty());
    assertNull(security.getPrivileged());
    assertEquals("/tmp", mountAt(operator, "/tmp").getMountPath());
    assertNotNull(RenderedChart.volume(pod, "tmp").getEmptyDir());
  }

  @Test
  void probesAskTheHealthEndpointsOnTheConfiguredPort() {
    var config = OperatorConfig.fromEnvironment(environment(operator, "node-a"));
    assertEquals(config.healthPort(), operator.getPorts().get(0).getContainerPort());
    assertEquals("health", operator.getPorts().get(0).getName());
    assertProbe(operator.getStartupProbe(), "/startup");
    assertProbe(operator.getLivenessProbe(), "/healthz");
    assertProbe(operator.getReadinessProbe(), "/readyz");
  }

  @Test
  void prometheusFindsTheOperatorsMetricsByAnnotationOrPodMonitor() {
    int port = OperatorConfig.fromEnvironment(environment(operator, "node-a")).healthPort();
    Map<String, String> annotations =
        chart.operatorDeployment().getSpec().getTemplate().getMetadata().getAnnotations();
    assertEquals("true", annotations.get("prometheus.io/scrape"));
    assertEquals(String.valueOf(port), annotations.get("prometheus.io/port"));
    assertEquals("/metrics", annotations.get("prometheus.io/path"));
    assertTrue(chart.all(GenericKubernetesResource.class).isEmpty(), "no PodMonitor unless asked");

    RenderedChart monitored =
        RenderedChart.render(
            c ->
                c.set("metrics.podMonitor.enabled", "true").set("metrics.podAnnotations", "false"));
    GenericKubernetesResource monitor =
        monitored.one(GenericKubernetesResource.class, "vfio-operator");
    assertEquals("PodMonitor", monitor.getKind());
    assertEquals("health", monitor.get("spec", "podMetricsEndpoints", 0, "port"));
    assertEquals("/metrics", monitor.get("spec", "podMetricsEndpoints", 0, "path"));
    assertEquals(
        List.of("operator", "node-agent"),
        monitor.get("spec", "selector", "matchExpressions", 1, "values"));
    assertTrue(
        monitored
            .operatorDeployment()
            .getSpec()
            .getTemplate()
            .getMetadata()
            .getAnnotations()
            .isEmpty());
  }

  @Test
  void operatorHasRequestsAndAMemoryLimit() {
    assertNotNull(operator.getResources().getRequests().get("cpu"));
    assertNotNull(operator.getResources().getRequests().get("memory"));
    assertNotNull(operator.getResources().getLimits().get("memory"));
  }

  @Test
  void operatorConfigurationReadsTheRenderedEnvironment() {
    OperatorConfig config = OperatorConfig.fromEnvironment(environment(operator, "node-a"));

    assertEquals("vfio-snapshots", config.defaultStorageClaim());
    assertEquals(Duration.ofMinutes(10), config.defaultTimeout());
    assertEquals(Duration.ofSeconds(60), config.agentHeartbeatTimeout());
    assertEquals(8080, config.healthPort());
    assertEquals(5, config.maxMigrations());
    assertEquals(2, config.maxMigrationsPerNode());
    assertEquals(10, config.maxSnapshots());
    assertEquals(4, config.maxSnapshotsPerNamespace());
    assertEquals(
        RenderedChart.NAMESPACE,
        config.leaderElectionNamespace(),
        "the Lease lives in the release namespace, where the leader-election Role grants it");
  }

  @Test
  void leaderElectionCanBeTurnedOffAndTakesItsRoleAlong() {
    RenderedChart single =
        RenderedChart.render(c -> c.set("operator.leaderElection.enabled", "false"));
    Container container =
        container(single.operatorDeployment().getSpec().getTemplate().getSpec(), "operator");

    assertEquals(
        "",
        OperatorConfig.fromEnvironment(environment(container, "node-a")).leaderElectionNamespace());
    assertFalse(single.has(Role.class, "vfio-operator-leader-election"));
    assertFalse(single.has(RoleBinding.class, "vfio-operator-leader-election"));
    assertTrue(chart.has(Role.class, "vfio-operator-leader-election"));
  }

  private static void assertProbe(Probe probe, String path) {
    assertNotNull(probe, path);
    assertEquals(path, probe.getHttpGet().getPath());
    assertEquals("health", probe.getHttpGet().getPort().getStrVal());
  }
}
