package dev.vfio.e2e;

import static dev.vfio.e2e.RestoreFromSnapshotTest.awaitMigration;
import static dev.vfio.e2e.RestoreFromSnapshotTest.createMigration;
import static dev.vfio.e2e.RestoreFromSnapshotTest.deviceState;
import static dev.vfio.e2e.RestoreFromSnapshotTest.restoreTarget;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.vfio.api.v1alpha1.MigrationPhase;
import dev.vfio.api.v1alpha1.TransportIdentity;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.certificates.v1.CertificateSigningRequest;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The transport CA replaced while the agents run (decision 0011): the operator follows the Secret,
 * keeps the previous CA in the agents' bundle, the agents renew early with the new CA, and a live
 * migration afterwards succeeds.
 */
class TransportCaRotationTest extends ClusterTest {
  /** The operator's check of the Secret and the agents' read of the bundle, 30 s each, and some. */
  private static final Duration ROTATION = Duration.ofSeconds(120);

  @BeforeAll
  static void start(@TempDir Path work) throws Exception {
    startCluster(work, LiveMigrationTest.sources(0x3c), LiveMigrationTest.targets(0xb0));
  }

  @Test
  void aCaReplacedWhileAgentsRunReachesTheirBundleAndTheirCertificatesAndMigrationsGoOn()
      throws Exception {
    String[] secret = cluster.roles().operatorSettings().get("VFIO_TRANSPORT_SECRET").split("/");
    for (String node : List.of("node-a", "node-b")) {
      await("the certificate of node " + node)
          .atMost(PATIENCE)
          .until(() -> !signedBy(node, bundle(secret).get(0)).isEmpty());
    }
    X509Certificate previous = bundle(secret).get(0);

    client.secrets().inNamespace(secret[0]).withName(secret[1]).delete();

    List<X509Certificate> rotated =
        await("the bundle of the new and the previous CA")
            .atMost(ROTATION)
            .until(() -> bundle(secret), b -> b.size() == 2 && !b.get(0).equals(previous));
    assertEquals(previous, rotated.get(1));
    X509Certificate current = rotated.get(0);
    for (String node : List.of("node-a", "node-b")) {
      await("node " + node + " renewed by the new CA")
          .atMost(ROTATION)
          .until(() -> !signedBy(node, current).isEmpty());
    }

    cluster.runningPod(NS, "rot-source", "node-a", "0000:3c:00.0");
    restoreTarget("rot-target", "node-b", "0000:b0:00.0");
    createMigration("rot", spec -> spec.getSource().setPodName("rot-source"), "rot-target");
    awaitMigration("rot", MigrationPhase.Succeeded);
    assertEquals("0000:3c:00.0", deviceState("node-b", "0000:b0:00.0").getProperty("origin"));
  }

  /** The CAs the agents trust, the current first. */
  private static List<X509Certificate> bundle(String[] secret) throws Exception {
    ConfigMap map = client.configMaps().inNamespace(secret[0]).withName(secret[1]).get();
    if (map == null || map.getData() == null || map.getData().get("ca.crt") == null) {
      return List.of();
    }
    return CertificateFactory.getInstance("X.509")
        .generateCertificates(
            new ByteArrayInputStream(
                map.getData().get("ca.crt").getBytes(StandardCharsets.US_ASCII)))
        .stream()
        .map(X509Certificate.class::cast)
        .toList();
  }

  /** The certificates issued to {@code node}'s agent that {@code ca} signed. */
  private static List<X509Certificate> signedBy(String node, X509Certificate ca) throws Exception {
    CertificateFactory factory = CertificateFactory.getInstance("X.509");
    List<X509Certificate> signed = new ArrayList<>();
    for (CertificateSigningRequest request :
        client
            .certificates()
            .v1()
            .certificateSigningRequests()
            .withField("spec.signerName", TransportIdentity.SIGNER_NAME)
            .list()
            .getItems()) {
      boolean ofNode =
          request.getSpec().getExtra() != null
              && List.of(node)
                  .equals(request.getSpec().getExtra().get(TransportIdentity.NODE_NAME_EXTRA));
      if (!ofNode || request.getStatus() == null || request.getStatus().getCertificate() == null) {
        continue;
      }
      X509Certificate certificate =
          (X509Certificate)
              factory.generateCertificate(
                  new ByteArrayInputStream(
                      Base64.getDecoder().decode(request.getStatus().getCertificate())));
      try {
        certificate.verify(ca.getPublicKey());
        signed.add(certificate);
      } catch (GeneralSecurityException e) {
        // Signed by another CA.
      }
    }
    return signed;
  }
}
