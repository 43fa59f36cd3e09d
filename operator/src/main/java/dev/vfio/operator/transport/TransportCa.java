package dev.vfio.operator.transport;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.net.HttpURLConnection;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
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
 * <p>The CA rotates without failing a stream (decision 0011): at two thirds of its life the
 * operator replaces it in the Secret, and whenever the Secret's CA changes (rotated here, by an
 * admin, or by cert-manager when {@code external}) the ConfigMap keeps the previous CA behind the
 * new one for a whole agent certificate life ({@link CaBundle}). The check runs every {@code
 * period} ({@link #watch}); the signer signs with {@link #current}.
 *
 * <p>Several operator replicas may start at once: each creates the Secret only if it is missing,
 * and the one that loses the race (409 Conflict) reads the winner's, so all agents end up with one
 * CA.
 */
public final class TransportCa implements AutoCloseable {
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
  private final Duration certificateValidity;
  private final boolean external;
  private final Clock clock;
  private final ScheduledExecutorService checks =
      Executors.newSingleThreadScheduledExecutor(
          r -> {
            Thread thread = new Thread(r, "transport-ca");
            thread.setDaemon(true);
            return thread;
          });
  private volatile TransportAuthority current;

  /**
   * @param certificateValidity how long an agent certificate lives: the previous CA stays trusted
   *     that long after a rotation
   * @param external whether another issuer writes the Secret; the operator then never does
   */
  public TransportCa(
      KubernetesClient client,
      String namespace,
      String name,
      Duration certificateValidity,
      boolean external,
      Clock clock) {
    this.client = client;
    this.namespace = namespace;
    this.name = name;
    this.certificateValidity = certificateValidity;
    this.external = external;
    this.clock = clock;
  }

  /** The CA that signs now; null until the first {@link #ensure} found one. */
  public TransportAuthority current() {
    return current;
  }

  /** Runs {@link #ensure} every {@code period}, from now on, logging what fails. */
  public void watch(Duration period) {
    checks.scheduleWithFixedDelay(this::ensureLogged, 0, period.toMillis(), TimeUnit.MILLISECONDS);
  }

  private void ensureLogged() {
    try {
      ensure();
    } catch (RuntimeException e) {
      LOG.warn("transport CA check failed, agents cannot get certificates yet: {}", e.getMessage());
    }
  }

  @Override
  public void close() {
    checks.shutdownNow();
  }

  /**
   * The CA: the one in the Secret if it exists and is not due for rotation, otherwise a new one,
   * stored in the Secret first. Either way the ConfigMap is made to carry the bundle.
   *
   * @throws IllegalStateException if the Secret exists but lacks one of the three PEM keys, or if
   *     it is {@code external} and not written yet
   */
  public TransportAuthority ensure() {
    TransportAuthority authority = secret();
    publish(authority);
    current = authority;
    return authority;
  }

  /** When the operator replaces its own CA: two thirds into its life, as agents renew theirs. */
  static Instant rotateAt(X509Certificate ca) {
    Instant notBefore = ca.getNotBefore().toInstant();
    Duration life = Duration.between(notBefore, ca.getNotAfter().toInstant());
    return notBefore.plus(life.multipliedBy(2).dividedBy(3));
  }

  private TransportAuthority secret() {
    for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
      Secret existing = client.secrets().inNamespace(namespace).withName(name).get();
      if (existing == null && external) {
        throw new IllegalStateException(
            "Secret "
                + namespace
                + "/"
                + name
                + " is not written yet by its issuer (transport.certManager); waiting for it");
      }
      boolean rotating = false;
      if (existing != null && holdsCa(existing)) {
        TransportAuthority held = read(existing);
        if (external || clock.instant().isBefore(rotateAt(held.certificate()))) {
          return held;
        }
        rotating = true;
      }
      TransportAuthority made = TransportAuthority.create(clock.instant());
      try {
        if (rotating) {
          Secret replacement = secret(made);
          replacement.getMetadata().setResourceVersion(existing.getMetadata().getResourceVersion());
          client.secrets().inNamespace(namespace).resource(replacement).update();
          LOG.info(
              "rotated the transport CA in Secret {}/{}: the previous one stays trusted for {}",
              namespace,
              name,
              certificateValidity);
          return made;
        }
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

  /** The ConfigMap the agents read the CA bundle from, written only when it differs. */
  private void publish(TransportAuthority authority) {
    ConfigMap existing = client.configMaps().inNamespace(namespace).withName(name).get();
    Map<String, String> data =
        existing == null || existing.getData() == null ? Map.of() : existing.getData();
    Map<String, String> annotations =
        existing == null || existing.getMetadata().getAnnotations() == null
            ? Map.of()
            : existing.getMetadata().getAnnotations();
    CaBundle bundle =
        CaBundle.read(data.get(CA_KEY), annotations.get(CaBundle.PREVIOUS_UNTIL))
            .next(authority.certificate(), clock.instant(), certificateValidity);
    String pem = bundle.pem();
    String until = bundle.previousUntil() == null ? null : bundle.previousUntil().toString();
    if (pem.equals(data.get(CA_KEY))
        && Objects.equals(until, annotations.get(CaBundle.PREVIOUS_UNTIL))) {
      return;
    }
    ConfigMap wanted =
        new ConfigMapBuilder()
            .withNewMetadata()
            .withName(name)
            .withNamespace(namespace)
            .withLabels(LABELS)
            .withAnnotations(until == null ? Map.of() : Map.of(CaBundle.PREVIOUS_UNTIL, until))
            .endMetadata()
            .withData(Map.of(CA_KEY, pem))
            .build();
    if (existing == null) {
      client.configMaps().inNamespace(namespace).resource(wanted).create();
    } else {
      wanted.getMetadata().setResourceVersion(existing.getMetadata().getResourceVersion());
      client.configMaps().inNamespace(namespace).resource(wanted).update();
    }
    LOG.info(
        "published the transport CA bundle ({} CAs) in ConfigMap {}/{}",
        bundle.certificates().size(),
        namespace,
        name);
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
