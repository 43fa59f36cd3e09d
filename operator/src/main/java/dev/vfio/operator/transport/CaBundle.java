package dev.vfio.operator.transport;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;

/**
 * The CAs the agents trust, as the ConfigMap's {@code ca.crt} holds them: the current CA first and,
 * after a rotation, the previous one until {@code previousUntil}, when every certificate it signed
 * has expired (decision 0011). The previous CA is whatever stood first in the bundle when the
 * current one changed, so the operator needs no other record of it, whoever replaced the CA.
 *
 * @param certificates the current CA, then the previous one if it is still trusted
 * @param previousUntil when the previous CA leaves the bundle; null when there is none
 */
record CaBundle(List<X509Certificate> certificates, Instant previousUntil) {
  /** The ConfigMap annotation that remembers {@link #previousUntil}. */
  static final String PREVIOUS_UNTIL = "transport.vfio.dev/previous-ca-until";

  CaBundle {
    certificates = List.copyOf(certificates);
  }

  /**
   * The bundle to publish now that {@code current} signs: if it just replaced the bundle's first
   * CA, that one stays for a whole certificate life (plus the backdating of the certificates it
   * signed), since it may have signed one a moment ago.
   */
  CaBundle next(X509Certificate current, Instant now, Duration certificateValidity) {
    if (!certificates.isEmpty() && !certificates.get(0).equals(current)) {
      return new CaBundle(
          List.of(current, certificates.get(0)),
          now.plus(certificateValidity).plus(TransportAuthority.BACKDATE));
    }
    if (certificates.size() > 1 && previousUntil != null && now.isBefore(previousUntil)) {
      return new CaBundle(List.of(current, certificates.get(1)), previousUntil);
    }
    return new CaBundle(List.of(current), null);
  }

  String pem() {
    StringBuilder pem = new StringBuilder();
    certificates.forEach(c -> pem.append(TransportAuthority.pem(c)));
    return pem.toString();
  }

  /** Reads what a ConfigMap holds; an unreadable or missing bundle reads as empty. */
  static CaBundle read(String pem, String previousUntil) {
    if (pem == null || pem.isBlank()) {
      return new CaBundle(List.of(), null);
    }
    List<X509Certificate> certificates = new ArrayList<>();
    try {
      for (var certificate :
          CertificateFactory.getInstance("X.509")
              .generateCertificates(
                  new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)))) {
        certificates.add((X509Certificate) certificate);
      }
    } catch (CertificateException e) {
      // Written by hand or damaged: the current CA alone replaces it.
      return new CaBundle(List.of(), null);
    }
    return new CaBundle(certificates, instant(previousUntil));
  }

  /** A hand-edited annotation that does not parse drops the previous CA at once. */
  private static Instant instant(String text) {
    try {
      return text == null ? null : Instant.parse(text);
    } catch (DateTimeParseException e) {
      return null;
    }
  }
}
