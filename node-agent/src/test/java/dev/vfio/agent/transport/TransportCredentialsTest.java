package dev.vfio.agent.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class TransportCredentialsTest {
  private final CertificateAuthority ca = CertificateAuthority.create("vfio-operator transport CA");

  @Test
  void pemsIssuedTheWayTheOperatorIssuesThemAreAccepted() {
    CertificateAuthority.Pems pems = ca.issueAgent();

    TransportCredentials credentials =
        TransportCredentials.fromPem(pems.caPem(), pems.certPem(), pems.keyPem());

    assertEquals(List.of(ca.certificate()), credentials.trusted());
    assertTrue(credentials.issuedBy(ca.certificate()));
    assertEquals(1, credentials.chain().size());
    assertEquals(
        "CN=system:vfio-agent:node-a",
        credentials.chain().get(0).getSubjectX500Principal().getName());
    assertEquals("EC", credentials.key().getAlgorithm());
    assertEquals("TLSv1.3", credentials.sslContext().getProtocol());
  }

  @Test
  void aBundleOfSeveralCasIsTrustedAndTellsWhichOneIssuedTheCertificate() {
    CertificateAuthority rotated = CertificateAuthority.create("vfio-operator transport CA");
    CertificateAuthority.Pems pems = ca.issueAgent();

    TransportCredentials credentials =
        TransportCredentials.fromPem(
            CertificateAuthority.pem(rotated.certificate()) + pems.caPem(),
            pems.certPem(),
            pems.keyPem());

    assertEquals(List.of(rotated.certificate(), ca.certificate()), credentials.trusted());
    assertTrue(credentials.issuedBy(ca.certificate()));
    assertFalse(credentials.issuedBy(rotated.certificate()), "same name, another key");
  }

  @Test
  void trustingABundleWithoutTheIssuingCaIsRefused() {
    CertificateAuthority rotated = CertificateAuthority.create("vfio-operator transport CA");
    TransportCredentials credentials = ca.issueAgent().credentials();

    IllegalArgumentException refused =
        assertThrows(
            IllegalArgumentException.class,
            () -> credentials.trusting(List.of(rotated.certificate())));
    assertTrue(refused.getMessage().contains("does not chain"), refused.getMessage());
  }

  @Test
  void chainThatRepeatsTheCaAtItsEndIsAccepted() {
    CertificateAuthority.Pems pems = ca.issueAgent();

    TransportCredentials credentials =
        TransportCredentials.fromPem(pems.caPem(), pems.certPem() + pems.caPem(), pems.keyPem());

    assertEquals(2, credentials.chain().size());
  }

  @Test
  void certificateOfAnotherCaIsRefused() {
    CertificateAuthority.Pems foreign =
        CertificateAuthority.create("someone else's CA").issueAgent();

    IllegalArgumentException refused =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                TransportCredentials.fromPem(
                    ca.issueAgent().caPem(), foreign.certPem(), foreign.keyPem()));
    assertTrue(refused.getMessage().contains("does not chain to the CA"), refused.getMessage());
  }

  @Test
  void keyOfAnotherCertificateIsRefused() {
    CertificateAuthority.Pems one = ca.issueAgent();
    CertificateAuthority.Pems other = ca.issueAgent();

    IllegalArgumentException refused =
        assertThrows(
            IllegalArgumentException.class,
            () -> TransportCredentials.fromPem(one.caPem(), one.certPem(), other.keyPem()));
    assertTrue(
        refused
            .getMessage()
            .startsWith(
                "the private key does not belong to the certificate"
                    + " CN=system:vfio-agent:node-a"),
        refused.getMessage());
  }

  @Test
  void expiredCertificateIsRefused() {
    CertificateAuthority.Pems expired =
        ca.issue("node-a", Instant.now().minus(Duration.ofDays(400)), Duration.ofDays(365));

    IllegalArgumentException refused =
        assertThrows(IllegalArgumentException.class, expired::credentials);
    assertTrue(refused.getMessage().contains("is not valid now"), refused.getMessage());
  }

  @Test
  void keyThatIsNotPkcs8IsRefusedSayingHowToStoreIt() throws Exception {
    CertificateAuthority.Pems pems = ca.issueAgent();
    // The same key as OpenSSL and cert-manager write it by default: SEC1, "EC PRIVATE KEY".
    String sec1 = CertificateAuthority.pem(privateKey(pems.keyPem()));
    assertTrue(sec1.startsWith("-----BEGIN EC PRIVATE KEY-----"), sec1);

    IllegalArgumentException refused =
        assertThrows(
            IllegalArgumentException.class,
            () -> TransportCredentials.fromPem(pems.caPem(), pems.certPem(), sec1));
    assertEquals(
        "the private key is a PEM 'EC PRIVATE KEY'; store it as PKCS#8, "
            + "'-----BEGIN PRIVATE KEY-----'",
        refused.getMessage());
  }

  @Test
  void textThatIsNotPemIsRefusedNamingThePiece() {
    CertificateAuthority.Pems pems = ca.issueAgent();

    assertTrue(
        assertThrows(
                IllegalArgumentException.class,
                () ->
                    TransportCredentials.fromPem(pems.caPem(), "not a certificate", pems.keyPem()))
            .getMessage()
            .startsWith("the agent certificate"));
    assertEquals(
        "the private key is not PEM",
        assertThrows(
                IllegalArgumentException.class,
                () -> TransportCredentials.fromPem(pems.caPem(), pems.certPem(), ""))
            .getMessage());
  }

  @Test
  void printedCredentialsLeaveOutTheKey() {
    TransportCredentials credentials = ca.issueAgent().credentials();
    String key = Base64.getEncoder().encodeToString(credentials.key().getEncoded());

    String printed = credentials.toString();

    assertFalse(printed.contains(key));
    assertFalse(Pattern.compile("(?i)private|key").matcher(printed).find(), printed);
  }

  private static PrivateKey privateKey(String pkcs8Pem) throws Exception {
    String base64 = pkcs8Pem.replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", "");
    return KeyFactory.getInstance("EC")
        .generatePrivate(new PKCS8EncodedKeySpec(Base64.getDecoder().decode(base64)));
  }
}
