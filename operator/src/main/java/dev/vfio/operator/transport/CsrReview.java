package dev.vfio.operator.transport;

import dev.vfio.api.v1alpha1.Reason;
import dev.vfio.api.v1alpha1.TransportIdentity;
import io.fabric8.kubernetes.api.model.certificates.v1.CertificateSigningRequestSpec;
import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.interfaces.ECPublicKey;
import java.security.spec.X509EncodedKeySpec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x500.RDN;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x500.style.IETFUtils;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.Extensions;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.PKCSException;

/**
 * Decides one transport CertificateSigningRequest: signed only when the agents' ServiceAccount
 * asked, from a token the API server bound to a node, and the request names exactly that node. The
 * node comes from {@code spec.extra}, which the API server fills from the requester's credential
 * and nobody can write; what the request itself says is only compared with it.
 */
final class CsrReview {
  /** The usages an agent asks for: it signs TLS handshakes as a server and as a client. */
  static final Set<String> USAGES = Set.of("digital signature", "client auth", "server auth");

  /** What to do with a request. */
  sealed interface Decision permits Sign, Deny {}

  /**
   * Sign {@code publicKey} for the agent of {@code node}.
   *
   * @param validity how long the certificate is valid
   */
  record Sign(String node, PublicKey publicKey, Duration validity) implements Decision {}

  /** Deny, with the reason and message the request's Denied condition carries. */
  record Deny(Reason reason, String message) implements Decision {}

  private final String agentUsername;
  private final Duration validity;

  /**
   * @param agentServiceAccount {@code <namespace>/<name>} of the agents' ServiceAccount
   * @param validity the longest a certificate is valid; a request may ask for less
   */
  CsrReview(String agentServiceAccount, Duration validity) {
    String[] account = agentServiceAccount.split("/", 2);
    if (account.length != 2 || account[0].isBlank() || account[1].isBlank()) {
      throw new IllegalArgumentException(
          "VFIO_AGENT_SERVICE_ACCOUNT '" + agentServiceAccount + "' is not <namespace>/<name>");
    }
    this.agentUsername = "system:serviceaccount:" + account[0] + ":" + account[1];
    this.validity = validity;
  }

  Decision review(CertificateSigningRequestSpec spec) {
    if (!agentUsername.equals(spec.getUsername())) {
      return new Deny(
          Reason.REQUESTER_NOT_AGENT,
          "requested by "
              + spec.getUsername()
              + "; only the node agents ("
              + agentUsername
              + ") get transport certificates");
    }
    Map<String, List<String>> extra = spec.getExtra() == null ? Map.of() : spec.getExtra();
    List<String> nodes = extra.getOrDefault(TransportIdentity.NODE_NAME_EXTRA, List.of());
    if (nodes.size() != 1 || nodes.get(0).isBlank()) {
      return new Deny(
          Reason.REQUESTER_NODE_UNKNOWN,
          "the requester's token names no node ("
              + TransportIdentity.NODE_NAME_EXTRA
              + " is "
              + nodes
              + "): only the bound token of an agent pod shows which node asks");
    }
    String node = nodes.get(0);
    List<String> usages = spec.getUsages() == null ? List.of() : spec.getUsages();
    if (!Set.copyOf(usages).equals(USAGES)) {
      return new Deny(Reason.REQUEST_MALFORMED, "usages are " + usages + ", not " + USAGES);
    }
    PKCS10CertificationRequest request;
    PublicKey key;
    try {
      request = parse(spec.getRequest());
      // The JDK's key factories are named by algorithm, not by the OID the request carries.
      key =
          KeyFactory.getInstance("EC")
              .generatePublic(
                  new X509EncodedKeySpec(request.getSubjectPublicKeyInfo().getEncoded()));
      if (!request.isSignatureValid(new JcaContentVerifierProviderBuilder().build(key))) {
        return new Deny(Reason.REQUEST_MALFORMED, "the request's signature is not its key's");
      }
    } catch (IOException
        | GeneralSecurityException
        | OperatorCreationException
        | PKCSException
        | IllegalArgumentException e) {
      return new Deny(
          Reason.REQUEST_MALFORMED,
          "unreadable PKCS#10 request or not an EC key: " + e.getMessage());
    }
    if (!(key instanceof ECPublicKey ec)
        || ec.getParams().getCurve().getField().getFieldSize() != 256) {
      return new Deny(Reason.REQUEST_MALFORMED, "the key is not EC P-256");
    }
    List<String> names = dnsNames(request);
    String commonName = commonName(request);
    if (!TransportIdentity.commonName(node).equals(commonName)
        || !List.of(TransportIdentity.dnsName(node)).equals(names)) {
      return new Deny(
          Reason.REQUESTED_NAME_MISMATCH,
          "the request names CN "
              + commonName
              + " and DNS "
              + names
              + ", but its requester's token was issued on node "
              + node);
    }
    Duration asked =
        spec.getExpirationSeconds() == null
            ? validity
            : Duration.ofSeconds(spec.getExpirationSeconds());
    return new Sign(node, key, asked.compareTo(validity) < 0 ? asked : validity);
  }

  private static PKCS10CertificationRequest parse(String base64) throws IOException {
    if (base64 == null) {
      throw new IllegalArgumentException("the request is empty");
    }
    String pem = new String(Base64.getDecoder().decode(base64), StandardCharsets.US_ASCII);
    try (PEMParser parser = new PEMParser(new StringReader(pem))) {
      Object object = parser.readObject();
      if (!(object instanceof PKCS10CertificationRequest request)) {
        throw new IllegalArgumentException("no CERTIFICATE REQUEST PEM block");
      }
      return request;
    }
  }

  private static String commonName(PKCS10CertificationRequest request) {
    RDN[] names = request.getSubject().getRDNs(BCStyle.CN);
    return names.length == 1 ? IETFUtils.valueToString(names[0].getFirst().getValue()) : null;
  }

  private static List<String> dnsNames(PKCS10CertificationRequest request) {
    List<String> names = new ArrayList<>();
    for (var attribute : request.getAttributes(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest)) {
      Extensions extensions = Extensions.getInstance(attribute.getAttrValues().getObjectAt(0));
      GeneralNames alternatives =
          GeneralNames.fromExtensions(extensions, Extension.subjectAlternativeName);
      if (alternatives == null) {
        continue;
      }
      for (GeneralName name : alternatives.getNames()) {
        // Any other kind of name is a name the signer would not vouch for: it counts as a
        // mismatch.
        names.add(
            name.getTagNo() == GeneralName.dNSName ? name.getName().toString() : name.toString());
      }
    }
    return names;
  }
}
