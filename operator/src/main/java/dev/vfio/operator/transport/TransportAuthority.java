package dev.vfio.operator.transport;

import dev.vfio.api.v1alpha1.TransportIdentity;
import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * The CA of the migration streams, EC P-256, with its key: it signs one short-lived certificate per
 * node agent, naming that agent's node ({@link TransportIdentity}). The key is kept (in a Secret
 * only the operator reads, {@link TransportCa}) because every agent asks again before its
 * certificate expires.
 *
 * @param certificate the CA certificate the agents trust
 * @param key its private key
 */
public record TransportAuthority(X509Certificate certificate, PrivateKey key) {
  static final String CA_NAME = "vfio-operator transport CA";
  static final Duration CA_VALIDITY = Duration.ofDays(3650);

  /** Covers nodes whose clocks run a little behind the operator's. */
  static final Duration BACKDATE = Duration.ofMinutes(5);

  private static final String SIGNATURE = "SHA256withECDSA";
  private static final SecureRandom RANDOM = new SecureRandom();

  /** A new CA, valid from shortly before {@code now}. */
  static TransportAuthority create(Instant now) {
    try {
      KeyPair keys = p256();
      X500Name name = new X500Name("CN=" + CA_NAME);
      X509v3CertificateBuilder ca =
          new JcaX509v3CertificateBuilder(
              name,
              serial(),
              Date.from(now.minus(BACKDATE)),
              Date.from(now.plus(CA_VALIDITY)),
              name,
              keys.getPublic());
      ca.addExtension(Extension.basicConstraints, true, new BasicConstraints(0));
      ca.addExtension(
          Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
      ca.addExtension(
          Extension.subjectKeyIdentifier,
          false,
          new JcaX509ExtensionUtils().createSubjectKeyIdentifier(keys.getPublic()));
      return new TransportAuthority(sign(ca, keys.getPrivate()), keys.getPrivate());
    } catch (GeneralSecurityException | IOException | OperatorCreationException e) {
      throw new IllegalStateException("cannot make the transport CA: " + e.getMessage(), e);
    }
  }

  /** Reads the CA back from the PEM {@link TransportCa} stores. */
  static TransportAuthority fromPem(String certificatePem, String keyPem) {
    try (PEMParser certificate = new PEMParser(new StringReader(certificatePem));
        PEMParser key = new PEMParser(new StringReader(keyPem))) {
      Object holder = certificate.readObject();
      Object info = key.readObject();
      if (!(holder instanceof X509CertificateHolder h) || !(info instanceof PrivateKeyInfo k)) {
        throw new IllegalArgumentException("not a PEM certificate and a PKCS#8 PEM key");
      }
      return new TransportAuthority(
          new JcaX509CertificateConverter().getCertificate(h),
          new JcaPEMKeyConverter().getPrivateKey(k));
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalArgumentException("unreadable CA: " + e.getMessage(), e);
    }
  }

  /**
   * A certificate for the agent of {@code node} over {@code publicKey}: the names come from the
   * node the API server vouched for, never from the request, and it serves both ends of a stream.
   */
  X509Certificate issueAgent(String node, PublicKey publicKey, Instant now, Duration validity) {
    try {
      JcaX509ExtensionUtils extensions = new JcaX509ExtensionUtils();
      X509v3CertificateBuilder agent =
          new JcaX509v3CertificateBuilder(
              certificate,
              serial(),
              Date.from(now.minus(BACKDATE)),
              Date.from(now.plus(validity)),
              new X500Name("CN=" + TransportIdentity.commonName(node)),
              publicKey);
      agent.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
      // ECDSA signs the TLS 1.3 handshake: digital signature is the only use the key needs.
      agent.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
      agent.addExtension(
          Extension.extendedKeyUsage,
          false,
          new ExtendedKeyUsage(
              new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}));
      agent.addExtension(
          Extension.subjectAlternativeName,
          false,
          new GeneralNames(new GeneralName(GeneralName.dNSName, TransportIdentity.dnsName(node))));
      agent.addExtension(
          Extension.subjectKeyIdentifier, false, extensions.createSubjectKeyIdentifier(publicKey));
      agent.addExtension(
          Extension.authorityKeyIdentifier,
          false,
          extensions.createAuthorityKeyIdentifier(certificate));
      return sign(agent, key);
    } catch (GeneralSecurityException | IOException | OperatorCreationException e) {
      throw new IllegalStateException(
          "cannot sign the transport certificate of node " + node + ": " + e.getMessage(), e);
    }
  }

  String certificatePem() {
    return pem(certificate);
  }

  String keyPem() {
    try {
      return pem(new JcaPKCS8Generator(key, null));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Leaves the private key out, so logging the CA cannot leak it. */
  @Override
  public String toString() {
    return "TransportAuthority[" + certificate.getSubjectX500Principal() + "]";
  }

  static String pem(Object object) {
    StringWriter out = new StringWriter();
    try (JcaPEMWriter writer = new JcaPEMWriter(out)) {
      writer.writeObject(object);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toString();
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
}
