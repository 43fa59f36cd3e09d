package dev.vfio.operator.transport;

import dev.vfio.api.v1alpha1.TransportIdentity;
import io.fabric8.kubernetes.api.model.certificates.v1.CertificateSigningRequestSpec;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.ExtensionsGenerator;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;

/** Transport certificate requests as an agent makes them, and as the API server records them. */
final class AgentRequests {
  static final String AGENT_ACCOUNT = "vfio-system/vfio-operator-agent";
  static final String AGENT_USER = "system:serviceaccount:vfio-system:vfio-operator-agent";

  private AgentRequests() {}

  static KeyPair p256() throws Exception {
    KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
    generator.initialize(new ECGenParameterSpec("secp256r1"));
    return generator.generateKeyPair();
  }

  /** A PKCS#10 request, PEM, for {@code commonName} and {@code dnsName}, signed by {@code keys}. */
  static String pkcs10(KeyPair keys, String commonName, String dnsName) throws Exception {
    ExtensionsGenerator extensions = new ExtensionsGenerator();
    extensions.addExtension(
        Extension.subjectAlternativeName,
        false,
        new GeneralNames(new GeneralName(GeneralName.dNSName, dnsName)));
    var request =
        new JcaPKCS10CertificationRequestBuilder(new X500Name("CN=" + commonName), keys.getPublic())
            .addAttribute(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest, extensions.generate())
            .build(new JcaContentSignerBuilder("SHA256withECDSA").build(keys.getPrivate()));
    return TransportAuthority.pem(request);
  }

  /** What the API server stores for a request {@code user} made with a token of {@code node}. */
  static CertificateSigningRequestSpec spec(String user, String tokenNode, String pkcs10Pem) {
    CertificateSigningRequestSpec spec = new CertificateSigningRequestSpec();
    spec.setSignerName(TransportIdentity.SIGNER_NAME);
    spec.setUsername(user);
    if (tokenNode != null) {
      spec.setExtra(Map.of(TransportIdentity.NODE_NAME_EXTRA, List.of(tokenNode)));
    }
    spec.setUsages(List.of("digital signature", "client auth", "server auth"));
    spec.setRequest(
        Base64.getEncoder().encodeToString(pkcs10Pem.getBytes(StandardCharsets.US_ASCII)));
    return spec;
  }

  /** The request node-a's agent makes for itself. */
  static CertificateSigningRequestSpec ofNodeA(KeyPair keys) throws Exception {
    return spec(
        AGENT_USER,
        "node-a",
        pkcs10(keys, TransportIdentity.commonName("node-a"), TransportIdentity.dnsName("node-a")));
  }
}
