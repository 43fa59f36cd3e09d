package dev.vfio.agent.transport;

import dev.vfio.api.v1alpha1.TransportIdentity;
import java.security.cert.Certificate;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

/**
 * Which node's agent a transport certificate belongs to: the node its one DNS name names ({@link
 * TransportIdentity}). TLS has already proven the peer holds the key of a certificate from the CA;
 * this says whose it is, so that each side can insist on the node its task names.
 */
final class PeerIdentity {
  private static final int DNS_NAME = 2;

  private PeerIdentity() {}

  /** The node {@code certificate} names, if it names exactly one. */
  static Optional<String> nodeOf(X509Certificate certificate) {
    List<String> nodes = new ArrayList<>();
    try {
      Collection<List<?>> names = certificate.getSubjectAlternativeNames();
      if (names == null) {
        return Optional.empty();
      }
      for (List<?> name : names) {
        if (name.size() == 2 && Integer.valueOf(DNS_NAME).equals(name.get(0))) {
          TransportIdentity.nodeOfDnsName(String.valueOf(name.get(1))).ifPresent(nodes::add);
        }
      }
    } catch (CertificateParsingException e) {
      return Optional.empty();
    }
    return nodes.size() == 1 ? Optional.of(nodes.get(0)) : Optional.empty();
  }

  /**
   * Refuses a peer whose certificate does not name {@code node}.
   *
   * @param role what the peer is to this side, for the message: "receiver" or "sender"
   */
  static void require(SSLSession session, String node, String role)
      throws SSLPeerUnverifiedException {
    Certificate[] chain = session.getPeerCertificates();
    Optional<String> named =
        chain.length > 0 && chain[0] instanceof X509Certificate leaf
            ? nodeOf(leaf)
            : Optional.empty();
    if (!named.equals(Optional.of(node))) {
      throw new PeerIdentityException(
          "the "
              + role
              + " presented the transport certificate of "
              + named.map(n -> "node " + n).orElse("no node")
              + ", not of node "
              + node
              + " that the task names");
    }
  }
}
