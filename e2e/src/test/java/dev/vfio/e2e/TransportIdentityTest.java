package dev.vfio.e2e;

import static dev.vfio.e2e.RestoreFromSnapshotTest.awaitMigration;
import static dev.vfio.e2e.RestoreFromSnapshotTest.createMigration;
import static dev.vfio.e2e.RestoreFromSnapshotTest.deviceState;
import static dev.vfio.e2e.RestoreFromSnapshotTest.restoreTarget;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vfio.agent.transport.SigningRequests;
import dev.vfio.api.v1alpha1.MigrationPhase;
import dev.vfio.api.v1alpha1.Reason;
import dev.vfio.api.v1alpha1.TransportIdentity;
import dev.vfio.api.v1alpha1.VfioNodeTask;
import io.fabric8.kubernetes.api.model.certificates.v1.CertificateSigningRequest;
import io.fabric8.kubernetes.api.model.certificates.v1.CertificateSigningRequestCondition;
import io.fabric8.kubernetes.api.model.certificates.v1.CertificateSigningRequestConditionBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Per-node transport certificates on the real API server, with the chart's roles: each agent asks
 * for its own with a CertificateSigningRequest, the operator signs it for the node the API server
 * recorded from the agent's token, a live migration runs on those certificates, and no agent can
 * approve or sign a request, its own included.
 */
class TransportIdentityTest extends ClusterTest {
  @BeforeAll
  static void start(@TempDir Path work) throws Exception {
    startCluster(work, LiveMigrationTest.sources(0x3b), LiveMigrationTest.targets(0xaf));
  }

  @Test
  void eachAgentHoldsACertificateNamingItsOwnNodeAndALiveMigrationRunsOnThem() throws Exception {
    for (String node : List.of("node-a", "node-b")) {
      X509Certificate certificate =
          await("the certificate of node " + node)
              .atMost(PATIENCE)
              .until(() -> issuedTo(node), Objects::nonNull);
      assertEquals(
          List.of(List.of(2, TransportIdentity.dnsName(node))),
          List.copyOf(certificate.getSubjectAlternativeNames()));
      assertEquals(
          "CN=" + TransportIdentity.commonName(node),
          certificate.getSubjectX500Principal().getName());
    }

    cluster.runningPod(NS, "ident-source", "node-a", "0000:3b:00.0");
    restoreTarget("ident-target", "node-b", "0000:af:00.0");
    createMigration("ident", spec -> spec.getSource().setPodName("ident-source"), "ident-target");
    awaitMigration("ident", MigrationPhase.Succeeded);

    assertEquals("node-a", task("ident-receive").getSpec().getPeerNode());
    assertEquals("node-b", task("ident-send").getSpec().getPeerNode());
    assertEquals("0000:3b:00.0", deviceState("node-b", "0000:af:00.0").getProperty("origin"));
  }

  @Test
  void anAgentCannotApproveOrSignARequestItsOwnIncluded() throws Exception {
    CertificateSigningRequest own =
        await("node-a's request")
            .atMost(PATIENCE)
            .until(() -> signedFor("node-a"), Objects::nonNull);
    try (KubernetesClient agent = cluster.clientAs(cluster.roles().agentToken("node-a"))) {
      var requests = agent.certificates().v1().certificateSigningRequests();

      KubernetesClientException approval =
          assertThrows(
              KubernetesClientException.class,
              () -> requests.withName(own.getMetadata().getName()).approve(selfApproval()));
      own.getStatus().setCertificate(Base64.getEncoder().encodeToString(new byte[] {1}));
      KubernetesClientException signing =
          assertThrows(
              KubernetesClientException.class, () -> requests.resource(own).updateStatus());

      assertEquals(403, approval.getCode(), approval.getMessage());
      assertEquals(403, signing.getCode(), signing.getMessage());
    }
  }

  @Test
  void anAgentAskingForAnotherNodesCertificateIsDenied() throws Exception {
    try (KubernetesClient agent = cluster.clientAs(cluster.roles().agentToken("node-a"))) {
      IOException denied =
          assertThrows(IOException.class, () -> requestAs(agent, "node-b").issue());

      assertTrue(
          denied.getMessage().contains(Reason.REQUESTED_NAME_MISMATCH.wire()), denied.getMessage());
    }
  }

  @Test
  void aRequestWithATokenBoundToNoNodeIsDenied() throws Exception {
    try (KubernetesClient unbound = cluster.clientAs(cluster.roles().unboundAgentToken())) {
      IOException denied =
          assertThrows(IOException.class, () -> requestAs(unbound, "node-a").issue());

      assertTrue(
          denied.getMessage().contains(Reason.REQUESTER_NODE_UNKNOWN.wire()), denied.getMessage());
    }
  }

  /** The agent's own request code, run with {@code client}'s credentials for {@code node}. */
  private static SigningRequests requestAs(KubernetesClient client, String node) {
    return new SigningRequests(
        client, node, cluster.roles().operatorSettings().get("VFIO_TRANSPORT_SECRET"), PATIENCE);
  }

  /** The newest request of {@code node}'s agent that the operator signed, or null. */
  private static CertificateSigningRequest signedFor(String node) {
    return client
        .certificates()
        .v1()
        .certificateSigningRequests()
        .withField("spec.signerName", TransportIdentity.SIGNER_NAME)
        .list()
        .getItems()
        .stream()
        .filter(r -> List.of(node).equals(extra(r).get(TransportIdentity.NODE_NAME_EXTRA)))
        .filter(r -> r.getStatus() != null && r.getStatus().getCertificate() != null)
        .max(Comparator.comparing(r -> r.getMetadata().getCreationTimestamp()))
        .orElse(null);
  }

  private static Map<String, List<String>> extra(CertificateSigningRequest request) {
    return request.getSpec().getExtra() == null ? Map.of() : request.getSpec().getExtra();
  }

  /** The certificate of the newest signed request of {@code node}'s agent, or null. */
  private static X509Certificate issuedTo(String node) throws Exception {
    CertificateSigningRequest signed = signedFor(node);
    if (signed == null) {
      return null;
    }
    return (X509Certificate)
        CertificateFactory.getInstance("X.509")
            .generateCertificate(
                new ByteArrayInputStream(
                    Base64.getDecoder().decode(signed.getStatus().getCertificate())));
  }

  private static VfioNodeTask task(String name) {
    return client.resources(VfioNodeTask.class).inNamespace(NS).withName(name).get();
  }

  private static CertificateSigningRequestCondition selfApproval() {
    return new CertificateSigningRequestConditionBuilder()
        .withType("Approved")
        .withStatus("True")
        .withReason("SelfApproved")
        .withMessage("an agent approving its own request")
        .build();
  }
}
