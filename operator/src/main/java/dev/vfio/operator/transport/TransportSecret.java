package dev.vfio.operator.transport;

/**
 * What the transport Secret holds, as PEM: the CA the agents trust and the certificate and key
 * every agent presents. The agents read the same three keys ({@code TransportCredentials}).
 *
 * @param caPem the CA certificate, key {@value TransportCa#CA_KEY}
 * @param certPem the agent certificate, key {@value TransportCa#CERT_KEY}
 * @param keyPem the agent's private key as PKCS#8, key {@value TransportCa#PRIVATE_KEY_KEY}
 */
public record TransportSecret(String caPem, String certPem, String keyPem) {
  /** Leaves the private key out, so logging the record cannot leak it. */
  @Override
  public String toString() {
    return "TransportSecret[caPem="
        + caPem.length()
        + " chars, certPem="
        + certPem.length()
        + " chars]";
  }
}
