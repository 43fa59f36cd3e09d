package dev.vfio.operator.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.StatusBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.CertPathValidator;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPublicKey;
import java.security.spec.PKCS8EncodedKeySpec;
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
  void firstCallCreatesATlsSecretWithTheCaAndTheAgentCertificate() {
    TransportSecret issued = transportCa().ensure();

    Secret secret = client.secrets().inNamespace(NAMESPACE).withName(NAME).get();
    assertEquals("kubernetes.io/tls", secret.getType());
    assertEquals(
        "vfio-operator", secret.getMetadata().getLabels().get("app.kubernetes.io/managed-by"));
    assertEquals(Set.of("ca.crt", "tls.crt", "tls.key"), secret.getData().keySet());
    assertEquals(issued.caPem(), decode(secret, "ca.crt"));
    assertEquals(issued.certPem(), decode(secret, "tls.crt"));
    assertEquals(issued.keyPem(), decode(secret, "tls.key"));
  }

  @Test
  void agentCertificateChainsToTheCaAndServesBothEndsOfAStream() throws Exception {
    TransportSecret issued = transportCa().ensure();

    X509Certificate ca = certificate(issued.caPem());
    X509Certificate agent = certificate(issued.certPem());
    PKIXParameters parameters = new PKIXParameters(Set.of(new TrustAnchor(ca, null)));
    parameters.setRevocationEnabled(false);
    CertPathValidator.getInstance("PKIX")
        .validate(
            CertificateFactory.getInstance("X.509").generateCertPath(List.of(agent)), parameters);

    assertEquals(ca.getSubjectX500Principal(), ca.getIssuerX500Principal());
    assertEquals(0, ca.getBasicConstraints(), "a CA that signs only end-entity certificates");
    assertTrue(ca.getKeyUsage()[5], "keyCertSign");
    assertEquals(-1, agent.getBasicConstraints(), "the agent certificate is no CA");
    assertEquals(
        List.of(List.of(2, "vfio-node-agent")), List.copyOf(agent.getSubjectAlternativeNames()));
    assertEquals(
        Set.of("1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"),
        Set.copyOf(agent.getExtendedKeyUsage()),
        "serverAuth and clientAuth");
    assertTrue(agent.getKeyUsage()[0], "digitalSignature");
    assertEquals(
        256, ((ECPublicKey) ca.getPublicKey()).getParams().getCurve().getField().getFieldSize());
    assertEquals(
        256, ((ECPublicKey) agent.getPublicKey()).getParams().getCurve().getField().getFieldSize());
    assertEquals(NOW.plus(Duration.ofDays(3650)), ca.getNotAfter().toInstant());
    assertEquals(NOW.plus(Duration.ofDays(365)), agent.getNotAfter().toInstant());
    assertEquals(NOW.minus(Duration.ofHours(1)), agent.getNotBefore().toInstant());
  }

  @Test
  void privateKeyIsPkcs8AndBelongsToTheAgentCertificate() throws Exception {
    TransportSecret issued = transportCa().ensure();
    assertTrue(issued.keyPem().startsWith("-----BEGIN PRIVATE KEY-----\n"), issued.keyPem());

    String base64 = issued.keyPem().replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", "");
    PrivateKey key =
        KeyFactory.getInstance("EC")
            .generatePrivate(new PKCS8EncodedKeySpec(Base64.getDecoder().decode(base64)));
    byte[] probe = "stream".getBytes(StandardCharsets.US_ASCII);
    Signature signer = Signature.getInstance("SHA256withECDSA");
    signer.initSign(key);
    signer.update(probe);
    Signature verifier = Signature.getInstance("SHA256withECDSA");
    verifier.initVerify(certificate(issued.certPem()));
    verifier.update(probe);

    assertTrue(verifier.verify(signer.sign()));
  }

  @Test
  void laterCallsAndOtherReplicasReturnTheSameCertificates() {
    TransportSecret first = transportCa().ensure();

    assertEquals(first, transportCa().ensure());
    assertEquals(first, new TransportCa(client, NAMESPACE, NAME).ensure());
    assertEquals(1, client.secrets().inNamespace(NAMESPACE).list().getItems().size());
  }

  @Test
  void replicaThatLosesTheCreateRaceReturnsTheWinnersCertificates() {
    TransportSecret winners =
        new TransportCa(
                client, NAMESPACE, NAME, Clock.fixed(NOW.minus(Duration.ofDays(1)), ZoneOffset.UTC))
            .ensure();
    // This replica looked before the winner created the Secret, so its create conflicts.
    server
        .expect()
        .get()
        .withPath("/api/v1/namespaces/" + NAMESPACE + "/secrets/" + NAME)
        .andReturn(404, new StatusBuilder().withCode(404).withReason("NotFound").build())
        .once();

    TransportSecret returned = transportCa().ensure();

    assertEquals(winners, returned);
    assertEquals(
        winners.caPem(),
        decode(client.secrets().inNamespace(NAMESPACE).withName(NAME).get(), "ca.crt"));
  }

  @Test
  void eachSecretGetsItsOwnCa() {
    TransportSecret one = transportCa().ensure();
    TransportSecret other = new TransportCa(client, NAMESPACE, "another-transport").ensure();

    assertNotEquals(one.caPem(), other.caPem());
    assertNotEquals(one.keyPem(), other.keyPem());
  }

  @Test
  void secretWithoutTheKeyIsReportedNotReplaced() {
    client
        .secrets()
        .inNamespace(NAMESPACE)
        .resource(
            new SecretBuilder()
                .withNewMetadata()
                .withName(NAME)
                .withNamespace(NAMESPACE)
                .endMetadata()
                .withType("kubernetes.io/tls")
                .withData(Map.of("ca.crt", "Y2E=", "tls.crt", "Y2VydA=="))
                .build())
        .create();

    IllegalStateException refused =
        assertThrows(IllegalStateException.class, () -> transportCa().ensure());

    assertEquals(
        "Secret vfio-system/vfio-operator-transport has no tls.key; delete the Secret "
            + "so that the operator issues a new transport CA",
        refused.getMessage());
    assertEquals(2, client.secrets().inNamespace(NAMESPACE).withName(NAME).get().getData().size());
  }

  @Test
  void printedSecretLeavesOutTheKey() {
    TransportSecret issued = transportCa().ensure();

    assertFalse(issued.toString().contains("PRIVATE"), issued.toString());
  }

  private TransportCa transportCa() {
    return new TransportCa(client, NAMESPACE, NAME, Clock.fixed(NOW, ZoneOffset.UTC));
  }

  private static String decode(Secret secret, String key) {
    return new String(
        Base64.getDecoder().decode(secret.getData().get(key)), StandardCharsets.US_ASCII);
  }

  private static X509Certificate certificate(String pem) throws Exception {
    return (X509Certificate)
        CertificateFactory.getInstance("X.509")
            .generateCertificate(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)));
  }
}
