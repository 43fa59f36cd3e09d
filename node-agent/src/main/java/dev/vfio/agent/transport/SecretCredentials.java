package dev.vfio.agent.transport;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The agent's transport credentials, read from the Secret the operator keeps (CA certificate, agent
 * certificate and key) the first time a migration needs them. Read lazily so an agent that never
 * migrates needs no access to it, and so an agent started before the operator still works.
 */
public final class SecretCredentials implements Supplier<TransportCredentials> {
  static final String CA = "ca.crt";
  static final String CERT = "tls.crt";
  static final String KEY = "tls.key";

  private final KubernetesClient client;
  private final String namespace;
  private final String name;
  private volatile TransportCredentials credentials;

  /** {@code secret} is {@code <namespace>/<name>}. */
  public SecretCredentials(KubernetesClient client, String secret) {
    String[] parts = secret.split("/", 2);
    if (parts.length != 2 || parts[0].isBlank() || parts[1].isBlank()) {
      throw new IllegalArgumentException(
          "VFIO_TRANSPORT_SECRET '" + secret + "' is not <namespace>/<name>");
    }
    this.client = client;
    this.namespace = parts[0];
    this.name = parts[1];
  }

  @Override
  public TransportCredentials get() {
    TransportCredentials known = credentials;
    if (known != null) {
      return known;
    }
    Secret secret = client.secrets().inNamespace(namespace).withName(name).get();
    if (secret == null || secret.getData() == null) {
      throw new IllegalStateException(
          "the transport secret "
              + namespace
              + "/"
              + name
              + " does not exist yet: the operator creates it when it starts");
    }
    Map<String, String> data = secret.getData();
    known = TransportCredentials.fromPem(decode(data, CA), decode(data, CERT), decode(data, KEY));
    credentials = known;
    return known;
  }

  private String decode(Map<String, String> data, String key) {
    String value = data.get(key);
    if (value == null) {
      throw new IllegalStateException(
          "the transport secret " + namespace + "/" + name + " has no " + key);
    }
    return new String(Base64.getDecoder().decode(value), StandardCharsets.UTF_8);
  }
}
