package dev.vfio.operator.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.StatusBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.cert.CertPathValidator;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

@EnableKubernetesMockClient(crud = true)
class TransportCaTest {
  private static final String NAMESPACE = "vfio-system";
  private static final String NAME = "vfio-operator-transport";
  private static final Instant NOW = Instant.now().truncatedTo(ChronoUnit.SECONDS);

  KubernetesClient client;
  KubernetesMockServer server;

  @Test
  void theCaAndItsKeyGoToATlsSecretAndOnlyItsCertificateToTheConfigMap() {
    TransportAuthority made = transportCa().ensure();

    Secret secret = client.secrets().inNamespace(NAMESPACE).withName(NAME).get();
    assertEquals("kubernetes.io/tls", secret.getType());
    assertEquals(
        "vfio-operator", secret.getMetadata().getLabels().get("app.kubernetes.io/managed-by"));
    assertEquals(Set.of("ca.crt", "tls.crt", "tls.key"), secret.getData().keySet());
    assertEquals(made.certificatePem(), decode(secret, "ca.crt"));
    assertEquals(made.certificatePem(), decode(secret, "tls.crt"));
    assertEquals(made.keyPem(), decode(secret, "tls.key"));
    ConfigMap published = client.configMaps().inNamespace(NAMESPACE).withName(NAME).get();
    assertEquals(Map.of("ca.crt", made.certificatePem()), published.getData());
  }

  @Test
  void anAgentCertificateNamesItsNodeOnlyAndChainsToTheCa() throws Exception {
    TransportAuthority ca = transportCa().ensure();
    KeyPair agentKeys = AgentRequests.p256();

    X509Certificate agent =
        ca.issueAgent("node-a", agentKeys.getPublic(), NOW, Duration.ofHours(24));

    PKIXParameters parameters = new PKIXParameters(Set.of(new TrustAnchor(ca.certificate(), null)));
    parameters.setRevocationEnabled(false);
    parameters.setDate(java.util.Date.from(NOW));
    CertPathValidator.getInstance("PKIX")
        .validate(
            CertificateFactory.getInstance("X.509").generateCertPath(List.of(agent)), parameters);
    assertEquals(0, ca.certificate().getBasicConstraints(), "signs end-entity certificates only");
    assertEquals(-1, agent.getBasicConstraints(), "the agent certificate is no CA");
    assertEquals(agentKeys.getPublic(), agent.getPublicKey());
    assertEquals(
        List.of(List.of(2, "node-a.vfio-agent")), List.copyOf(agent.getSubjectAlternativeNames()));
    assertEquals("CN=system:vfio-agent:node-a", agent.getSubjectX500Principal().getName());
    assertEquals(
        Set.of("1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"),
        Set.copyOf(agent.getExtendedKeyUsage()),
        "serverAuth and clientAuth");
    assertEquals(NOW.plus(Duration.ofHours(24)), agent.getNotAfter().toInstant());
  }

  @Test
  void laterCallsAndOtherReplicasReturnTheSameCa() {
    TransportAuthority first = transportCa().ensure();

    assertEquals(first.certificate(), transportCa().ensure().certificate());
    assertEquals(first.key(), transportCa().ensure().key());
    assertEquals(1, client.secrets().inNamespace(NAMESPACE).list().getItems().size());
  }

  @Test
  void replicaThatLosesTheCreateRaceReturnsTheWinnersCa() {
    TransportAuthority winners =
        transportCa(NAME, Clock.fixed(NOW.minus(Duration.ofDays(1)), ZoneOffset.UTC)).ensure();
    // This replica looked before the winner created the Secret, so its create conflicts.
    server
        .expect()
        .get()
        .withPath("/api/v1/namespaces/" + NAMESPACE + "/secrets/" + NAME)
        .andReturn(404, new StatusBuilder().withCode(404).withReason("NotFound").build())
        .once();

    TransportAuthority returned = transportCa().ensure();

    assertEquals(winners.certificate(), returned.certificate());
    assertEquals(
        winners.certificatePem(),
        client.configMaps().inNamespace(NAMESPACE).withName(NAME).get().getData().get("ca.crt"));
  }

  @Test
  void eachSecretGetsItsOwnCa() {
    TransportAuthority one = transportCa().ensure();
    TransportAuthority other =
        transportCa("another-transport", Clock.fixed(NOW, ZoneOffset.UTC)).ensure();

    assertNotEquals(one.certificate(), other.certificate());
  }

  @Test
  void theSharedAgentCertificateOfAnOlderReleaseIsReplacedByACa() {
    client
        .secrets()
        .inNamespace(NAMESPACE)
        .resource(secret(Map.of("ca.crt", "Y2E=", "tls.crt", "Y2VydA==", "tls.key", "a2V5")))
        .create();

    TransportAuthority made = transportCa().ensure();

    Secret replaced = client.secrets().inNamespace(NAMESPACE).withName(NAME).get();
    assertEquals(made.certificatePem(), decode(replaced, "tls.crt"));
    assertEquals(made.keyPem(), decode(replaced, "tls.key"));
  }

  @Test
  void aCaSecretWithoutTheKeyIsReportedNotReplaced() {
    client
        .secrets()
        .inNamespace(NAMESPACE)
        .resource(secret(Map.of("ca.crt", "Y2E=", "tls.crt", "Y2E=")))
        .create();

    IllegalStateException refused =
        assertThrows(IllegalStateException.class, () -> transportCa().ensure());

    assertEquals(
        "Secret vfio-system/vfio-operator-transport has no tls.key; delete the Secret "
            + "so that the operator makes a new transport CA",
        refused.getMessage());
    assertEquals(2, client.secrets().inNamespace(NAMESPACE).withName(NAME).get().getData().size());
  }

  @Test
  void printedCaLeavesOutTheKey() {
    TransportAuthority made = transportCa().ensure();

    assertFalse(made.toString().contains("PRIVATE"), made.toString());
    assertTrue(made.keyPem().startsWith("-----BEGIN PRIVATE KEY-----\n"));
  }

  private TransportCa transportCa() {
    return transportCa(NAME, Clock.fixed(NOW, ZoneOffset.UTC));
  }

  private TransportCa transportCa(String name, Clock clock) {
    return new TransportCa(client, NAMESPACE, name, Duration.ofHours(24), false, clock);
  }

  private static Secret secret(Map<String, String> data) {
    return new SecretBuilder()
        .withNewMetadata()
        .withName(NAME)
        .withNamespace(NAMESPACE)
        .endMetadata()
        .withType("kubernetes.io/tls")
        .withData(data)
        .build();
  }

  private static String decode(Secret secret, String key) {
    return new String(
        Base64.getDecoder().decode(secret.getData().get(key)), StandardCharsets.US_ASCII);
  }
}
