package dev.vfio.operator.transport;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.net.HttpURLConnection;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.Base64;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the certificates of the migration streams in one Secret: a CA that only the agents trust
 * and the certificate and key every agent presents, issued once and read by every agent. The Secret
 * is of type {@code kubernetes.io/tls} with the CA added, the layout cert-manager writes, so a
 * cert-manager Certificate can stand in for it.
 *
 * <p>Several operator replicas may start at once: each creates the Secret only if it is missing,
 * and the one that loses the race (409 Conflict) reads the winner's, so all agents end up with one
 * CA.
 */
public final class TransportCa {
  /** The CA certificate, PEM. */
  public static final String CA_KEY = "ca.crt";

  /** The agent certificate, PEM. */
  public static final String CERT_KEY = "tls.crt";

  /** The agent's private key, PKCS#8 PEM. */
  public static final String PRIVATE_KEY_KEY = "tls.key";

  static final String SECRET_TYPE = "kubernetes.io/tls";
  static final Map<String, String> LABELS =
      Map.of(
          "app.kubernetes.io/managed-by", "vfio-operator",
          "app.kubernetes.io/component", "transport-ca");

  /** Create, lose the race, find it deleted again: past this many turns something is wrong. */
  private static final int ATTEMPTS = 3;

  private static final Logger LOG = LoggerFactory.getLogger(TransportCa.class);

  private final KubernetesClient client;
  private final String namespace;
  private final String secretName;
  private final Clock clock;

  public TransportCa(KubernetesClient client, String namespace, String secretName) {
    this(client, namespace, secretName, Clock.systemUTC());
  }

  TransportCa(KubernetesClient client, String namespace, String secretName, Clock clock) {
    this.client = client;
    this.namespace = namespace;
    this.secretName = secretName;
    this.clock = clock;
  }

  /**
   * The transport certificates: those in the Secret if it exists, otherwise new ones, stored in a
   * new Secret first.
   *
   * @throws IllegalStateException if the Secret exists but lacks one of the three PEM keys
   */
  public TransportSecret ensure() {
    for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
      Secret existing = client.secrets().inNamespace(namespace).withName(secretName).get();
      if (existing != null) {
        return read(existing);
      }
      TransportSecret issued = SelfSignedCa.issue(clock.instant());
      try {
        client.secrets().inNamespace(namespace).resource(secret(issued)).create();
        LOG.info(
            "created the transport CA and agent certificate in Secret {}/{}",
            namespace,
            secretName);
        return issued;
      } catch (KubernetesClientException e) {
        if (e.getCode() != HttpURLConnection.HTTP_CONFLICT) {
          throw e;
        }
        // Another replica created it first; the next turn reads theirs.
      }
    }
    throw new IllegalStateException(
        "Secret "
            + namespace
            + "/"
            + secretName
            + " was neither "
            + "readable nor creatable after "
            + ATTEMPTS
            + " attempts");
  }

  private Secret secret(TransportSecret issued) {
    return new SecretBuilder()
        .withNewMetadata()
        .withName(secretName)
        .withNamespace(namespace)
        .withLabels(LABELS)
        .endMetadata()
        .withType(SECRET_TYPE)
        .withData(
            Map.of(
                CA_KEY, base64(issued.caPem()),
                CERT_KEY, base64(issued.certPem()),
                PRIVATE_KEY_KEY, base64(issued.keyPem())))
        .build();
  }

  private TransportSecret read(Secret secret) {
    Map<String, String> data = secret.getData() == null ? Map.of() : secret.getData();
    return new TransportSecret(pem(data, CA_KEY), pem(data, CERT_KEY), pem(data, PRIVATE_KEY_KEY));
  }

  private String pem(Map<String, String> data, String key) {
    String value = data.get(key);
    if (value == null || value.isBlank()) {
      throw new IllegalStateException(
          "Secret "
              + namespace
              + "/"
              + secretName
              + " has no "
              + key
              + "; delete the Secret so that the operator issues a new transport CA");
    }
    return new String(Base64.getMimeDecoder().decode(value), StandardCharsets.US_ASCII);
  }

  private static String base64(String pem) {
    return Base64.getEncoder().encodeToString(pem.getBytes(StandardCharsets.US_ASCII));
  }
}
