package dev.vfio.operator.transport;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.net.HttpURLConnection;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.Base64;
import java.util.Map;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the CA of the migration streams: its certificate and key in a Secret only the operator
 * reads, and its certificate alone in a ConfigMap of the same name that the agents read. No agent
 * can read a private key other than its own, which never leaves its node.
 *
 * <p>The Secret is of type {@code kubernetes.io/tls} with {@code ca.crt}, the layout of a
 * cert-manager CA issuer's Secret: {@code tls.crt} and {@code ca.crt} the CA certificate, {@code
 * tls.key} its key. A Secret of an older release held one agent certificate in {@code tls.crt} and
 * no CA key; it is replaced by a new CA, since nothing could sign with the old one.
 *
 * <p>Several operator replicas may start at once: each creates the Secret only if it is missing,
 * and the one that loses the race (409 Conflict) reads the winner's, so all agents end up with one
 * CA.
 */
public final class TransportCa {
  /** The CA certificate, PEM, in the Secret and in the ConfigMap. */
  public static final String CA_KEY = "ca.crt";

  /** The CA certificate again, PEM: the {@code kubernetes.io/tls} layout asks for it. */
  public static final String CERT_KEY = "tls.crt";

  /** The CA's private key, PKCS#8 PEM. */
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
  private final String name;
  private final Clock clock;

  public TransportCa(KubernetesClient client, String namespace, String name) {
    this(client, namespace, name, Clock.systemUTC());
  }

  TransportCa(KubernetesClient client, String namespace, String name, Clock clock) {
    this.client = client;
    this.namespace = namespace;
    this.name = name;
    this.clock = clock;
  }

  /**
   * The CA: the one in the Secret if it exists, otherwise a new one, stored in a new Secret first.
   * Either way the ConfigMap is made to carry its certificate.
   *
   * @throws IllegalStateException if the Secret exists but lacks one of the three PEM keys
   */
  public TransportAuthority ensure() {
    TransportAuthority authority = secret();
    publish(authority);
    return authority;
  }

  private TransportAuthority secret() {
    for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
      Secret existing = client.secrets().inNamespace(namespace).withName(name).get();
      if (existing != null && holdsCa(existing)) {
        return read(existing);
      }
      TransportAuthority made = TransportAuthority.create(clock.instant());
      try {
        if (existing == null) {
          client.secrets().inNamespace(namespace).resource(secret(made)).create();
        } else {
          Secret replacement = secret(made);
          replacement.getMetadata().setResourceVersion(existing.getMetadata().getResourceVersion());
          client.secrets().inNamespace(namespace).resource(replacement).update();
          LOG.warn(
              "Secret {}/{} held a shared agent certificate of an older release; replaced it"
                  + " with a transport CA that signs one certificate per agent",
              namespace,
              name);
        }
        LOG.info("made the transport CA in Secret {}/{}", namespace, name);
        return made;
      } catch (KubernetesClientException e) {
        if (e.getCode() != HttpURLConnection.HTTP_CONFLICT) {
          throw e;
        }
        // Another replica wrote it first; the next turn reads theirs.
      }
    }
    throw new IllegalStateException(
        "Secret "
            + namespace
            + "/"
            + name
            + " was neither readable nor creatable after "
            + ATTEMPTS
            + " attempts");
  }

  /** The ConfigMap the agents read the CA certificate from, written only when it differs. */
  private void publish(TransportAuthority authority) {
    String pem = authority.certificatePem();
    ConfigMap existing = client.configMaps().inNamespace(namespace).withName(name).get();
    if (existing != null
        && existing.getData() != null
        && pem.equals(existing.getData().get(CA_KEY))) {
      return;
    }
    ConfigMap wanted =
        new ConfigMapBuilder()
            .withNewMetadata()
            .withName(name)
            .withNamespace(namespace)
            .withLabels(LABELS)
            .endMetadata()
            .withData(Map.of(CA_KEY, pem))
            .build();
    if (existing == null) {
      client.configMaps().inNamespace(namespace).resource(wanted).create();
    } else {
      wanted.getMetadata().setResourceVersion(existing.getMetadata().getResourceVersion());
      client.configMaps().inNamespace(namespace).resource(wanted).update();
    }
    LOG.info("published the transport CA certificate in ConfigMap {}/{}", namespace, name);
  }

  private Secret secret(TransportAuthority authority) {
    String certificate = authority.certificatePem();
    return new SecretBuilder()
        .withNewMetadata()
        .withName(name)
        .withNamespace(namespace)
        .withLabels(LABELS)
        .endMetadata()
        .withType(SECRET_TYPE)
        .withData(
            Map.of(
                CA_KEY, base64(certificate),
                CERT_KEY, base64(certificate),
                PRIVATE_KEY_KEY, base64(authority.keyPem())))
        .build();
  }

  /** An older release's Secret holds the agent certificate in tls.crt, not the CA. */
  private boolean holdsCa(Secret secret) {
    Map<String, String> data = secret.getData() == null ? Map.of() : secret.getData();
    return Objects.equals(pem(data, CA_KEY), pem(data, CERT_KEY));
  }

  private TransportAuthority read(Secret secret) {
    Map<String, String> data = secret.getData() == null ? Map.of() : secret.getData();
    try {
      return TransportAuthority.fromPem(pem(data, CERT_KEY), pem(data, PRIVATE_KEY_KEY));
    } catch (IllegalArgumentException e) {
      throw new IllegalStateException(
          "Secret "
              + namespace
              + "/"
              + name
              + " holds no readable CA: "
              + e.getMessage()
              + "; delete the Secret so that the operator makes a new transport CA",
          e);
    }
  }

  private String pem(Map<String, String> data, String key) {
    String value = data.get(key);
    if (value == null || value.isBlank()) {
      throw new IllegalStateException(
          "Secret "
              + namespace
              + "/"
              + name
              + " has no "
              + key
              + "; delete the Secret so that the operator makes a new transport CA");
    }
    return new String(Base64.getMimeDecoder().decode(value), StandardCharsets.US_ASCII);
  }

  private static String base64(String pem) {
    return Base64.getEncoder().encodeToString(pem.getBytes(StandardCharsets.US_ASCII));
  }
}
