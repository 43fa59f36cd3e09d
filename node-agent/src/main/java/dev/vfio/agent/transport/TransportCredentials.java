package dev.vfio.agent.transport;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.NoSuchAlgorithmException;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.CertPathValidator;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.security.spec.InvalidKeySpecException;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * What an agent needs to stream device state to another agent: the CAs it trusts, and this agent's
 * certificate chain and private key, issued by one of them. Both ends of a stream present their
 * certificate and accept only a peer whose certificate chains to one of {@link #trusted}.
 *
 * <p>Several CAs are trusted while the operator's CA rotates: the current one first, then the
 * previous one until every certificate it signed has expired, so that an agent renewed by the new
 * CA and one still holding a certificate of the old CA accept each other (decision 0011).
 *
 * <p>The constructor proves the pieces fit together — the key belongs to the certificate, and the
 * certificate chains to the CA and is valid now — so a wrong Secret fails when it is read, with a
 * message, rather than as a handshake failure on every migration.
 *
 * @param trusted the certificate authorities a peer's certificate may chain to, the current first
 * @param chain this agent's certificate first, then any intermediates
 * @param key the private key of {@code chain.get(0)}
 */
public record TransportCredentials(
    List<X509Certificate> trusted, List<X509Certificate> chain, PrivateKey key) {

  /** The only protocol the transport speaks: no downgrade to older TLS. */
  public static final String PROTOCOL = "TLSv1.3";

  private static final Pattern PEM_KEY =
      Pattern.compile("-----BEGIN ([A-Z ]+)-----([A-Za-z0-9+/=\\s]+)-----END \\1-----");

  /** The key algorithms a CA issues TLS certificates for, tried in this order. */
  private static final List<String> KEY_ALGORITHMS = List.of("EC", "RSA", "Ed25519");

  public TransportCredentials {
    Objects.requireNonNull(key, "key");
    trusted = List.copyOf(trusted);
    chain = List.copyOf(chain);
    if (trusted.isEmpty()) {
      throw new IllegalArgumentException("no CA is trusted");
    }
    if (chain.isEmpty()) {
      throw new IllegalArgumentException("the certificate chain is empty");
    }
    requireKeyOf(chain.get(0), key);
    requireChainsTo(trusted, chain);
  }

  /**
   * Reads credentials kept as PEM, in the layout of a {@code kubernetes.io/tls} Secret.
   *
   * @param caPem the CA certificates trusted, the current first ({@code ca.crt})
   * @param certPem this agent's certificate, optionally followed by intermediates ({@code tls.crt})
   * @param keyPem the private key as PKCS#8, {@code -----BEGIN PRIVATE KEY-----} ({@code tls.key})
   * @throws IllegalArgumentException naming which piece is unreadable or does not fit
   */
  public static TransportCredentials fromPem(String caPem, String certPem, String keyPem) {
    return fromPem(caPem, certPem, privateKey(keyPem));
  }

  /**
   * Credentials of a key made in this process and the certificate the CA issued for it.
   *
   * @param caPem the CA certificates trusted, the current first
   * @param certPem the certificate of {@code key}, optionally followed by intermediates
   * @throws IllegalArgumentException naming which piece is unreadable or does not fit
   */
  public static TransportCredentials fromPem(String caPem, String certPem, PrivateKey key) {
    return new TransportCredentials(
        bundle(caPem), certificates(certPem, "the agent certificate"), key);
  }

  /**
   * Reads a CA bundle: one or more PEM certificates, the current CA first.
   *
   * @throws IllegalArgumentException if it holds no certificate or one that is unreadable
   */
  public static List<X509Certificate> bundle(String caPem) {
    return certificates(caPem, "the CA bundle");
  }

  /**
   * The same key and certificate trusting another bundle.
   *
   * @throws IllegalArgumentException if the certificate chains to no CA of {@code bundle}
   */
  public TransportCredentials trusting(List<X509Certificate> bundle) {
    return new TransportCredentials(bundle, chain, key);
  }

  /** Whether {@code ca} signed this agent's chain: its last certificate short of the anchors. */
  public boolean issuedBy(X509Certificate ca) {
    List<X509Certificate> path = chain.stream().filter(c -> !trusted.contains(c)).toList();
    X509Certificate last = path.get(path.size() - 1);
    if (!last.getIssuerX500Principal().equals(ca.getSubjectX500Principal())) {
      return false;
    }
    try {
      // Every CA the operator makes bears the same name: only the signature tells them apart.
      last.verify(ca.getPublicKey());
      return true;
    } catch (GeneralSecurityException e) {
      return false;
    }
  }

  /**
   * A TLS 1.3 context for both ends of a stream: it presents {@link #chain} and trusts only {@link
   * #trusted}. Peers are addressed by pod IP, so it checks the chain and not the host name; that is
   * the socket's default as long as no endpoint identification algorithm is set.
   */
  public SSLContext sslContext() {
    try {
      char[] password = new char[0];
      KeyStore identity = KeyStore.getInstance("PKCS12");
      identity.load(null, null);
      identity.setKeyEntry("agent", key, password, chain.toArray(X509Certificate[]::new));
      KeyManagerFactory keys = KeyManagerFactory.getInstance("PKIX");
      keys.init(identity, password);

      KeyStore anchors = KeyStore.getInstance("PKCS12");
      anchors.load(null, null);
      for (int i = 0; i < trusted.size(); i++) {
        anchors.setCertificateEntry("ca-" + i, trusted.get(i));
      }
      TrustManagerFactory trust = TrustManagerFactory.getInstance("PKIX");
      trust.init(anchors);

      SSLContext context = SSLContext.getInstance(PROTOCOL);
      context.init(keys.getKeyManagers(), trust.getTrustManagers(), new SecureRandom());
      return context;
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalStateException(
          "cannot build a TLS context from the transport " + "credentials: " + e.getMessage(), e);
    }
  }

  /** Leaves the private key out, so logging the credentials cannot leak it. */
  @Override
  public String toString() {
    return "TransportCredentials[trusted="
        + trusted.size()
        + " CA(s)"
        + ", certificate="
        + chain.get(0).getSubjectX500Principal()
        + "]";
  }

  private static List<X509Certificate> certificates(String pem, String what) {
    try {
      CertificateFactory factory = CertificateFactory.getInstance("X.509");
      List<X509Certificate> certificates = new ArrayList<>();
      for (var certificate :
          factory.generateCertificates(
              new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)))) {
        certificates.add((X509Certificate) certificate);
      }
      if (certificates.isEmpty()) {
        throw new IllegalArgumentException(what + " PEM holds no certificate");
      }
      return certificates;
    } catch (CertificateException e) {
      throw new IllegalArgumentException(what + " is not a PEM certificate: " + e.getMessage(), e);
    }
  }

  private static PrivateKey privateKey(String pem) {
    Matcher matcher = PEM_KEY.matcher(pem);
    if (!matcher.find()) {
      throw new IllegalArgumentException("the private key is not PEM");
    }
    if (!matcher.group(1).equals("PRIVATE KEY")) {
      // The JDK reads PKCS#8 only; cert-manager writes it with privateKey.encoding: PKCS8.
      throw new IllegalArgumentException(
          "the private key is a PEM '"
              + matcher.group(1)
              + "'; store it as PKCS#8, '-----BEGIN PRIVATE KEY-----'");
    }
    byte[] der;
    try {
      der = Base64.getMimeDecoder().decode(matcher.group(2));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("the private key PEM is not base64: " + e.getMessage(), e);
    }
    PKCS8EncodedKeySpec spec = new PKCS8EncodedKeySpec(der);
    for (String algorithm : KEY_ALGORITHMS) {
      try {
        return KeyFactory.getInstance(algorithm).generatePrivate(spec);
      } catch (InvalidKeySpecException | NoSuchAlgorithmException e) {
        // Not this algorithm; PKCS#8 names it inside the DER, which the next factory may read.
      }
    }
    throw new IllegalArgumentException(
        "the private key is not an " + KEY_ALGORITHMS + " key in PKCS#8");
  }

  /** Signs with the key and checks with the certificate: only the matching pair agrees. */
  private static void requireKeyOf(X509Certificate certificate, PrivateKey key) {
    String algorithm =
        switch (key.getAlgorithm()) {
          case "EC" -> "SHA256withECDSA";
          case "RSA" -> "SHA256withRSA";
          case "EdDSA", "Ed25519" -> "Ed25519";
          default ->
              throw new IllegalArgumentException(
                  "unsupported private key algorithm " + key.getAlgorithm());
        };
    try {
      byte[] probe = "vfio-operator transport key check".getBytes(StandardCharsets.US_ASCII);
      Signature signer = Signature.getInstance(algorithm);
      signer.initSign(key);
      signer.update(probe);
      byte[] signature = signer.sign();
      Signature verifier = Signature.getInstance(algorithm);
      verifier.initVerify(certificate.getPublicKey());
      verifier.update(probe);
      if (!verifier.verify(signature)) {
        throw new IllegalArgumentException(
            "the private key does not belong to the certificate "
                + certificate.getSubjectX500Principal());
      }
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException(
          "the private key does not belong to the certificate "
              + certificate.getSubjectX500Principal()
              + ": "
              + e.getMessage(),
          e);
    }
  }

  private static void requireChainsTo(List<X509Certificate> cas, List<X509Certificate> chain) {
    // A CA is a trust anchor; a chain that repeats it at the end must not list it twice.
    List<X509Certificate> path = chain.stream().filter(c -> !cas.contains(c)).toList();
    if (path.isEmpty()) {
      throw new IllegalArgumentException("the agent certificate is the CA certificate itself");
    }
    Set<TrustAnchor> anchors =
        cas.stream().map(ca -> new TrustAnchor(ca, null)).collect(Collectors.toSet());
    try {
      PKIXParameters parameters = new PKIXParameters(anchors);
      // Revocation has no CRL or OCSP responder here: the CA is private to the cluster.
      parameters.setRevocationEnabled(false);
      CertPathValidator.getInstance("PKIX")
          .validate(CertificateFactory.getInstance("X.509").generateCertPath(path), parameters);
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException(
          "the agent certificate "
              + chain.get(0).getSubjectX500Principal()
              + " does not chain to the CA bundle ("
              + cas.size()
              + " certificates) or is not valid now: "
              + e.getMessage(),
          e);
    }
  }
}
