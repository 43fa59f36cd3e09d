package dev.vfio.bench;

import dev.vfio.agent.transport.TransportCredentials;
import dev.vfio.api.v1alpha1.TransportIdentity;
import java.io.IOException;
import java.io.StringWriter;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * Transport credentials as the operator issues them (EC P-256 CA with path length 0, an agent
 * certificate of node {@link #NODE} for client and server auth, the key as PKCS#8 PEM), made on the
 * spot for streams over loopback, where that one agent is both ends.
 */
final class LoopbackCredentials {
  /** The node the loopback agent's certificate names. */
  static final String NODE = "bench-node";

  private static final SecureRandom RANDOM = new SecureRandom();

  private LoopbackCredentials() {}

  static TransportCredentials issue() {
    try {
      Instant now = Instant.now();
      Date from = Date.from(now.minus(Duration.ofHours(1)));
      Date until = Date.from(now.plus(Duration.ofDays(1)));
      KeyPair caKeys = p256();
      X500Name caName = new X500Name("CN=vfio-operator bench CA");
      X509v3CertificateBuilder ca =
          new JcaX509v3CertificateBuilder(
              caName, serial(), from, until, caName, caKeys.getPublic());
      ca.addExtension(Extension.basicConstraints, true, new BasicConstraints(0));
      ca.addExtension(
          Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
      X509Certificate caCertificate = sign(ca, caKeys.getPrivate());

      KeyPair agentKeys = p256();
      X509v3CertificateBuilder agent =
          new JcaX509v3CertificateBuilder(
              caCertificate,
              serial(),
              from,
              until,
              new X500Name("CN=" + TransportIdentity.commonName(NODE)),
              agentKeys.getPublic());
      agent.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
      agent.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
      agent.addExtension(
          Extension.extendedKeyUsage,
          false,
          new ExtendedKeyUsage(
              new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}));
      agent.addExtension(
          Extension.subjectAlternativeName,
          false,
          new GeneralNames(new GeneralName(GeneralName.dNSName, TransportIdentity.dnsName(NODE))));
      X509Certificate agentCertificate = sign(agent, caKeys.getPrivate());
      return TransportCredentials.fromPem(
          pem(caCertificate),
          pem(agentCertificate),
          pem(new JcaPKCS8Generator(agentKeys.getPrivate(), null)));
    } catch (GeneralSecurityException | IOException | OperatorCreationException e) {
      throw new IllegalStateException("cannot issue loopback transport credentials", e);
    }
  }

  private static String pem(Object object) throws IOException {
    StringWriter out = new StringWriter();
    try (JcaPEMWriter writer = new JcaPEMWriter(out)) {
      writer.writeObject(object);
    }
    return out.toString();
  }

  private static X509Certificate sign(X509v3CertificateBuilder builder, PrivateKey key)
      throws OperatorCreationException, GeneralSecurityException {
    return new JcaX509CertificateConverter()
        .getCertificate(builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(key)));
  }

  private static KeyPair p256() throws GeneralSecurityException {
    KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
    generator.initialize(new ECGenParameterSpec("secp256r1"));
    return generator.generateKeyPair();
  }

  private static BigInteger serial() {
    return new BigInteger(127, RANDOM).add(BigInteger.ONE);
  }
}
