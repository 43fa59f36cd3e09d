package dev.vfio.helm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vfio.operator.config.OperatorConfig;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** cert-manager may issue the transport CA; the operator then only follows its Secret. */
class TransportCertManagerTest {
  private static final String SECRET = RenderedChart.RELEASE + "-transport";

  @Test
  void byDefaultTheOperatorMakesTheCaAndNoCertManagerObjectIsRendered() {
    RenderedChart chart = RenderedChart.render();

    assertFalse(chart.has(GenericKubernetesResource.class, SECRET));
    assertFalse(operatorConfig(chart).transportCaExternal());
  }

  @Test
  void enabledItRendersASelfSignedIssuerAndACaCertificateWritingTheTransportSecret() {
    RenderedChart chart =
        RenderedChart.render(
            c ->
                c.set("transport.certManager.enabled", "true")
                    .set("transport.certManager.duration", "4380h")
                    .set("transport.certManager.renewBefore", "1460h"));

    GenericKubernetesResource issuer =
        chart.one(GenericKubernetesResource.class, SECRET + "-selfsigned");
    assertEquals("Issuer", issuer.getKind());
    assertEquals(Map.of(), spec(issuer).get("selfSigned"));
    Map<?, ?> spec = spec(chart.one(GenericKubernetesResource.class, SECRET));
    assertEquals(true, spec.get("isCA"));
    assertEquals(SECRET, spec.get("secretName"));
    assertEquals("4380h", spec.get("duration"));
    assertEquals("1460h", spec.get("renewBefore"));
    assertEquals(
        Map.of("algorithm", "ECDSA", "size", 256, "encoding", "PKCS8", "rotationPolicy", "Always"),
        spec.get("privateKey"));
    assertEquals(
        Map.of("name", SECRET + "-selfsigned", "kind", "Issuer", "group", "cert-manager.io"),
        spec.get("issuerRef"));
    assertTrue(operatorConfig(chart).transportCaExternal());
  }

  @Test
  void anExistingIssuerIsUsedInsteadOfTheChartsOwn() {
    RenderedChart chart =
        RenderedChart.render(
            c ->
                c.set("transport.certManager.enabled", "true")
                    .set("transport.certManager.issuerRef.name", "cluster-ca")
                    .set("transport.certManager.issuerRef.kind", "ClusterIssuer"));

    assertFalse(chart.has(GenericKubernetesResource.class, SECRET + "-selfsigned"));
    assertEquals(
        Map.of("name", "cluster-ca", "kind", "ClusterIssuer", "group", "cert-manager.io"),
        spec(chart.one(GenericKubernetesResource.class, SECRET)).get("issuerRef"));
  }

  private static Map<?, ?> spec(GenericKubernetesResource resource) {
    return (Map<?, ?>) resource.getAdditionalProperties().get("spec");
  }

  private static OperatorConfig operatorConfig(RenderedChart chart) {
    return OperatorConfig.fromEnvironment(
        RenderedChart.environment(
            RenderedChart.container(
                chart.operatorDeployment().getSpec().getTemplate().getSpec(), "operator"),
            "node-a"));
  }
}
