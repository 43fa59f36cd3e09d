package dev.vfio.operator.transport;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
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
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A CA made on the spot, EC P-256, that issues the one certificate all agents share. Its key lives
 * only in memory and is dropped once the agent certificate is signed: nothing can issue another
 * certificate the agents would trust.
 */
final class SelfSignedCa {
  static final String CA_NAME = "vfio-operator transport CA";
  static final String AGENT_NAME = "vfio-node-agent";
  static final Duration CA_VALIDITY = Duration.ofDays(3650);
  static final Duration AGENT_VALIDITY = Duration.ofDays(365);

  /** Covers nodes whose clocks run a little behind the operator's. */
  static final Duration BACKDATE = Duration.ofHours(1);

  private static final String SIGNATURE = "SHA256withECDSA";
  private static final SecureRandom RANDOM = new SecureRandom();

  private SelfSignedCa() {}

  /** A new CA and an agent certificate it signed, valid from shortly before {@code now}. */
  static TransportSecret issue(Instant now) {
    try {
      Instant notBefore = now.minus(BACKDATE);
      KeyPair caKeys = p256();
      X500Name caName = new X500Name("CN=" + CA_NAME);
      JcaX509ExtensionUtils extensions = new JcaX509ExtensionUtils();
      X509v3CertificateBuilder ca =
          new JcaX509v3CertificateBuilder(
              caName,
              serial(),
              Date.from(notBefore),
              Date.from(now.plus(CA_VALIDITY)),
              caName,
              caKeys.getPublic());
      ca.addExtension(Extension.basicConstraints, true, new BasicConstraints(0));
      ca.addExtension(
          Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
      ca.addExtension(
          Extension.subjectKeyIdentifier,
          false,
          extensions.createSubjectKeyIdentifier(caKeys.getPublic()));
      X509Certificate caCertificate = sign(ca, caKeys.getPrivate());

      KeyPair agentKeys = p256();
      X509v3CertificateBuilder agent =
          new JcaX509v3CertificateBuilder(
              caCertificate,
              serial(),
              Date.from(notBefore),
              Date.from(now.plus(AGENT_VALIDITY)),
              new X500Name("CN=" + AGENT_NAME),
              agentKeys.getPublic());
      agent.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
      // ECDSA signs the TLS 1.3 handshake: digital signature is the only use the key needs.
      agent.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
      // Every agent is a server (receiver) and a client (sender) with the same certificate.
      agent.addExtension(
          Extension.extendedKeyUsage,
          false,
          new ExtendedKeyUsage(
              new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}));
      agent.addExtension(
          Extension.subjectAlternativeName,
          false,
          new GeneralNames(new GeneralName(GeneralName.dNSName, AGENT_NAME)));
      agent.addExtension(
          Extension.subjectKeyIdentifier,
          false,
          extensions.createSubjectKeyIdentifier(agentKeys.getPublic()));
      agent.addExtension(
          Extension.authorityKeyIdentifier,
          false,
          extensions.createAuthorityKeyIdentifier(caCertificate));
      X509Certificate agentCertificate = sign(agent, caKeys.getPrivate());

      return new TransportSecret(
          pem(caCertificate),
          pem(agentCertificate),
          pem(new JcaPKCS8Generator(agentKeys.getPrivate(), null)));
    } catch (GeneralSecurityException | IOException | OperatorCreationException e) {
      throw new IllegalStateException(
          "cannot issue the transport certificates: " + e.getMessage(), e);
    }
  }

  private static X509Certificate sign(X509v3CertificateBuilder builder, PrivateKey key)
      throws OperatorCreationException, GeneralSecurityException {
    return new JcaX509CertificateConverter()
        .getCertificate(builder.build(new JcaContentSignerBuilder(SIGNATURE).build(key)));
  }

  private static KeyPair p256() throws GeneralSecurityException {
    KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
    generator.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
    return generator.generateKeyPair();
  }

  /** Positive and unpredictable, as RFC 5280 and the CA/B rules on serials ask. */
  private static BigInteger serial() {
    return new BigInteger(127, RANDOM).add(BigInteger.ONE);
  }

  private static String pem(Object object) {
    StringWriter out = new StringWriter();
    try (JcaPEMWriter writer = new JcaPEMWriter(out)) {
      writer.writeObject(object);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toString();
  }
}
