package dev.vfio.api.v1alpha1;

import java.util.Optional;
import java.util.regex.Pattern;

/**
 * How a node agent's transport certificate names its node: the contract between the agent that
 * requests the certificate, the operator that signs it and the peers that check it. The one name
 * checked is the DNS subject alternative name {@code <node>.vfio-agent}; the subject CN {@code
 * system:vfio-agent:<node>} says the same for people reading the certificate.
 *
 * <p>A node name is a DNS subdomain, so {@code <node>.vfio-agent} is a valid DNS name; the suffix
 * is not a resolvable domain, so no other certificate authority issues such a name by mistake.
 */
public final class TransportIdentity {
  /** The signer name of the agents' CertificateSigningRequests. */
  public static final String SIGNER_NAME = "vfio.dev/transport";

  /** The user info extra in which the API server records the node of a bound token's pod. */
  public static final String NODE_NAME_EXTRA = "authentication.kubernetes.io/node-name";

  static final String DNS_SUFFIX = ".vfio-agent";
  static final String COMMON_NAME_PREFIX = "system:vfio-agent:";

  private static final Pattern NODE_NAME =
      Pattern.compile("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$");

  private TransportIdentity() {}

  /** The DNS name a certificate of {@code node}'s agent carries. */
  public static String dnsName(String node) {
    return requireNode(node) + DNS_SUFFIX;
  }

  /** The subject common name a certificate of {@code node}'s agent carries. */
  public static String commonName(String node) {
    return COMMON_NAME_PREFIX + requireNode(node);
  }

  /** The node a DNS name of an agent certificate names, if it is one. */
  public static Optional<String> nodeOfDnsName(String dnsName) {
    if (dnsName == null || !dnsName.endsWith(DNS_SUFFIX)) {
      return Optional.empty();
    }
    String node = dnsName.substring(0, dnsName.length() - DNS_SUFFIX.length());
    return NODE_NAME.matcher(node).matches() ? Optional.of(node) : Optional.empty();
  }

  private static String requireNode(String node) {
    if (node == null || node.length() > 253 || !NODE_NAME.matcher(node).matches()) {
      throw new IllegalArgumentException("'" + node + "' is not a node name");
    }
    return node;
  }
}
