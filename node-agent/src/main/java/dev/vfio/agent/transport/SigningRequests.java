package dev.vfio.agent.transport;

import dev.vfio.api.v1alpha1.TransportIdentity;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.certificates.v1.CertificateSigningRequest;
import io.fabric8.kubernetes.api.model.certificates.v1.CertificateSigningRequestBuilder;
import io.fabric8.kubernetes.api.model.certificates.v1.CertificateSigningRequestCondition;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.ExtensionsGenerator;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;

/**
 * Gets this agent a transport certificate through the Kubernetes API: a new EC P-256 key made in
 * memory, a CertificateSigningRequest of signer {@value TransportIdentity#SIGNER_NAME} for this
 * node's names ({@link TransportIdentity}), and the certificate the operator writes into its status
 * once it has checked that this agent's token was issued on this node. The private key never leaves
 * the process; the CA certificate comes from the ConfigMap the operator publishes.
 */
public final class SigningRequests implements IssuedCredentials.Issuer {
  static final List<String> USAGES = List.of("digital signature", "client auth", "server auth");
  private static final Duration POLL = Duration.ofMillis(500);
  private static final SecureRandom RANDOM = new SecureRandom();

  private final KubernetesClient client;
  private final String node;
  private final String caNamespace;
  private final String caName;
  private final Duration patience;

  /**
   * @param transportCa {@code <namespace>/<name>} of the ConfigMap holding {@code ca.crt}
   * @param patience how long to wait for the operator to sign
   */
  public SigningRequests(
      KubernetesClient client, String node, String transportCa, Duration patience) {
    String[] parts = transportCa.split("/", 2);
    if (parts.length != 2 || parts[0].isBlank() || parts[1].isBlank()) {
      throw new IllegalArgumentException(
          "VFIO_TRANSPORT_CA '" + transportCa + "' is not <namespace>/<name>");
    }
    this.client = client;
    this.node = node;
    this.caNamespace = parts[0];
    this.caName = parts[1];
    this.patience = patience;
  }

  @Override
  public TransportCredentials issue() throws IOException, InterruptedException {
    KeyPair keys = p256();
    CertificateSigningRequest created =
        client
            .certificates()
            .v1()
            .certificateSigningRequests()
            .resource(
                new CertificateSigningRequestBuilder()
                    .withNewMetadata()
                    .withGenerateName(namePrefix())
                    .endMetadata()
                    .withNewSpec()
                    .withSignerName(TransportIdentity.SIGNER_NAME)
                    .withUsages(USAGES)
                    .withRequest(
                        Base64.getEncoder()
                            .encodeToString(pkcs10(keys).getBytes(StandardCharsets.US_ASCII)))
                    .endSpec()
                    .build())
            .create();
    String name = created.getMetadata().getName();
    String certificatePem = await(name);
    String caPem = caPem();
    try {
      return TransportCredentials.fromPem(caPem, certificatePem, keys.getPrivate());
    } catch (IllegalArgumentException e) {
      throw new IOException(
          "the certificate of request " + name + " is not usable: " + e.getMessage(), e);
    }
  }

  /** The certificate PEM once the operator wrote it; fails when denied or after the patience. */
  private String await(String name) throws IOException, InterruptedException {
    long deadline = System.nanoTime() + patience.toNanos();
    while (true) {
      CertificateSigningRequest request =
          client.certificates().v1().certificateSigningRequests().withName(name).get();
      if (request == null) {
        throw new IOException("certificate request " + name + " was deleted before it was signed");
      }
      if (request.getStatus() != null) {
        String certificate = request.getStatus().getCertificate();
        if (certificate != null && !certificate.isEmpty()) {
          return new String(Base64.getDecoder().decode(certificate), StandardCharsets.US_ASCII);
        }
        List<CertificateSigningRequestCondition> conditions =
            request.getStatus().getConditions() == null
                ? List.of()
                : request.getStatus().getConditions();
        for (CertificateSigningRequestCondition condition : conditions) {
          if (condition.getType().equals("Denied") || condition.getType().equals("Failed")) {
            throw new IOException(
                "certificate request "
                    + name
                    + " was "
                    + condition.getType().toLowerCase(Locale.ROOT)
                    + ": "
                    + condition.getReason()
                    + ": "
                    + condition.getMessage());
          }
        }
      }
      if (System.nanoTime() > deadline) {
        throw new IOException(
            "certificate request "
                + name
                + " was not signed within "
                + patience
                + ": is the operator running?");
      }
      TimeUnit.NANOSECONDS.sleep(POLL.toNanos());
    }
  }

  /** The CAs the operator publishes for the agents to trust, the current one first. */
  public List<X509Certificate> trustBundle() throws IOException {
    try {
      return TransportCredentials.bundle(caPem());
    } catch (IllegalArgumentException e) {
      throw new IOException(
          "ConfigMap " + caNamespace + "/" + caName + " holds no usable ca.crt: " + e.getMessage(),
          e);
    }
  }

  private String caPem() throws IOException {
    ConfigMap map = client.configMaps().inNamespace(caNamespace).withName(caName).get();
    String pem = map == null || map.getData() == null ? null : map.getData().get("ca.crt");
    if (pem == null) {
      throw new IOException(
          "ConfigMap "
              + caNamespace
              + "/"
              + caName
              + " has no ca.crt yet: the operator publishes it when it starts");
    }
    return pem;
  }

  /** Names of Kubernetes objects are at most 253 characters; the API server adds 5. */
  private String namePrefix() {
    String prefix = "vfio-agent-" + node;
    return (prefix.length() > 240 ? prefix.substring(0, 240) : prefix) + "-";
  }

  private String pkcs10(KeyPair keys) throws IOException {
    try {
      ExtensionsGenerator extensions = new ExtensionsGenerator();
      extensions.addExtension(
          Extension.subjectAlternativeName,
          false,
          new GeneralNames(new GeneralName(GeneralName.dNSName, TransportIdentity.dnsName(node))));
      PKCS10CertificationRequest request =
          new JcaPKCS10CertificationRequestBuilder(
                  new X500Name("CN=" + TransportIdentity.commonName(node)), keys.getPublic())
              .addAttribute(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest, extensions.generate())
              .build(new JcaContentSignerBuilder("SHA256withECDSA").build(keys.getPrivate()));
      StringWriter out = new StringWriter();
      try (JcaPEMWriter writer = new JcaPEMWriter(out)) {
        writer.writeObject(request);
      }
      return out.toString();
    } catch (OperatorCreationException e) {
      throw new IOException("cannot sign the certificate request: " + e.getMessage(), e);
    }
  }

  private static KeyPair p256() {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
      generator.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
      return generator.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("every Java runtime makes EC P-256 keys", e);
    }
  }
}
