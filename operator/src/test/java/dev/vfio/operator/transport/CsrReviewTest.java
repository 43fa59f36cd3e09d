package dev.vfio.operator.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import dev.vfio.api.v1alpha1.Reason;
import dev.vfio.api.v1alpha1.TransportIdentity;
import io.fabric8.kubernetes.api.model.certificates.v1.CertificateSigningRequestSpec;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CsrReviewTest {
  final CsrReview review = new CsrReview(AgentRequests.AGENT_ACCOUNT, Duration.ofHours(24));

  @Test
  void anAgentAskingForItsOwnNodeIsSignedForThatNodeAndItsKey() throws Exception {
    KeyPair keys = AgentRequests.p256();

    CsrReview.Decision decision = review.review(AgentRequests.ofNodeA(keys));
    CsrReview.Sign sign = assertInstanceOf(CsrReview.Sign.class, decision, decision.toString());

    assertEquals("node-a", sign.node());
    assertEquals(keys.getPublic(), sign.publicKey());
    assertEquals(Duration.ofHours(24), sign.validity());
  }

  @Test
  void anAgentAskingForAnotherNodesNameIsDenied() throws Exception {
    KeyPair keys = AgentRequests.p256();
    CertificateSigningRequestSpec spec =
        AgentRequests.spec(
            AgentRequests.AGENT_USER,
            "node-a",
            AgentRequests.pkcs10(
                keys, TransportIdentity.commonName("node-b"), TransportIdentity.dnsName("node-b")));

    assertEquals(Reason.REQUESTED_NAME_MISMATCH, denied(spec));
  }

  @Test
  void aRequestNamingTheRightCommonNameButAnotherDnsNameIsDenied() throws Exception {
    KeyPair keys = AgentRequests.p256();
    CertificateSigningRequestSpec spec =
        AgentRequests.spec(
            AgentRequests.AGENT_USER,
            "node-a",
            AgentRequests.pkcs10(
                keys, TransportIdentity.commonName("node-a"), TransportIdentity.dnsName("node-b")));

    assertEquals(Reason.REQUESTED_NAME_MISMATCH, denied(spec));
  }

  @Test
  void anyoneButTheAgentsServiceAccountIsDenied() throws Exception {
    CertificateSigningRequestSpec spec = AgentRequests.ofNodeA(AgentRequests.p256());
    spec.setUsername("system:serviceaccount:default:builder");

    assertEquals(Reason.REQUESTER_NOT_AGENT, denied(spec));
  }

  @Test
  void anAgentTokenBoundToNoNodeIsDenied() throws Exception {
    CertificateSigningRequestSpec spec = AgentRequests.ofNodeA(AgentRequests.p256());
    spec.setExtra(Map.of());

    assertEquals(Reason.REQUESTER_NODE_UNKNOWN, denied(spec));
  }

  @Test
  void aRequestSignedByAnotherKeyThanItCarriesIsDenied() throws Exception {
    CertificateSigningRequestSpec genuine = AgentRequests.ofNodeA(AgentRequests.p256());
    String forged = genuine.getRequest();
    // Flip a byte inside the signature, at the end of the DER, past the key and the names.
    byte[] pem = java.util.Base64.getDecoder().decode(forged);
    String text = new String(pem, java.nio.charset.StandardCharsets.US_ASCII);
    int end = text.indexOf("-----END");
    String body = text.substring(text.indexOf('\n') + 1, end).replace("\n", "");
    byte[] der = java.util.Base64.getDecoder().decode(body);
    der[der.length - 3] ^= 1;
    String tampered =
        "-----BEGIN CERTIFICATE REQUEST-----\n"
            + java.util.Base64.getMimeEncoder().encodeToString(der)
            + "\n-----END CERTIFICATE REQUEST-----\n";
    genuine.setRequest(
        java.util.Base64.getEncoder()
            .encodeToString(tampered.getBytes(java.nio.charset.StandardCharsets.US_ASCII)));

    assertEquals(Reason.REQUEST_MALFORMED, denied(genuine));
  }

  @Test
  void aKeyOtherThanP256IsDenied() throws Exception {
    KeyPairGenerator rsa = KeyPairGenerator.getInstance("RSA");
    rsa.initialize(2048);
    KeyPair keys = rsa.generateKeyPair();
    var request =
        new org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder(
                new org.bouncycastle.asn1.x500.X500Name(
                    "CN=" + TransportIdentity.commonName("node-a")),
                keys.getPublic())
            .build(
                new org.bouncycastle.operator.jcajce.JcaContentSignerBuilder("SHA256withRSA")
                    .build(keys.getPrivate()));

    assertEquals(
        Reason.REQUEST_MALFORMED,
        denied(
            AgentRequests.spec(
                AgentRequests.AGENT_USER, "node-a", TransportAuthority.pem(request))));
  }

  @Test
  void usagesBeyondTheTransportsAreDenied() throws Exception {
    CertificateSigningRequestSpec spec = AgentRequests.ofNodeA(AgentRequests.p256());
    spec.setUsages(List.of("digital signature", "client auth", "server auth", "code signing"));

    assertEquals(Reason.REQUEST_MALFORMED, denied(spec));
  }

  @Test
  void aRequestMayAskForAShorterLifeButNotALongerOne() throws Exception {
    CertificateSigningRequestSpec shorter = AgentRequests.ofNodeA(AgentRequests.p256());
    shorter.setExpirationSeconds(3600);
    CertificateSigningRequestSpec longer = AgentRequests.ofNodeA(AgentRequests.p256());
    longer.setExpirationSeconds(365 * 24 * 3600);

    assertEquals(
        Duration.ofHours(1),
        assertInstanceOf(CsrReview.Sign.class, review.review(shorter)).validity());
    assertEquals(
        Duration.ofHours(24),
        assertInstanceOf(CsrReview.Sign.class, review.review(longer)).validity());
  }

  private Reason denied(CertificateSigningRequestSpec spec) {
    return assertInstanceOf(CsrReview.Deny.class, review.review(spec)).reason();
  }
}
