package dev.vfio.agent.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class IssuedCredentialsTest {
  private static final Duration LIFE = Duration.ofHours(24);

  private final CertificateAuthority ca = CertificateAuthority.create("vfio-operator transport CA");
  private final Instant issuedAt = Instant.now().truncatedTo(ChronoUnit.SECONDS);
  private final MovableClock clock = new MovableClock(issuedAt);
  private final AtomicInteger issued = new AtomicInteger();
  private volatile boolean issuerDown;

  /** The CA the operator signs with, and the bundle it publishes. */
  private volatile CertificateAuthority signing = ca;

  private volatile List<X509Certificate> bundle = List.of(ca.certificate());
  private volatile boolean bundleUnreadable;

  private final IssuedCredentials credentials =
      new IssuedCredentials(
          () -> {
            if (issuerDown) {
              throw new IOException("certificate request was denied: RequestedNameMismatch");
            }
            // Each from the start of the test, the nth living n days: the credentials check their
            // certificate against the real time, which the test's clock leaves behind.
            return signing
                .issue("node-a", issuedAt, LIFE.multipliedBy(issued.incrementAndGet()))
                .credentials()
                .trusting(bundle);
          },
          () -> {
            if (bundleUnreadable) {
              throw new IOException("ConfigMap vfio-system/vfio-operator-transport not found");
            }
            return bundle;
          },
          clock);

  @Test
  void theFirstUseAsksForACertificateAndLaterUsesShareIt() {
    TransportCredentials first = credentials.get();

    assertSame(first, credentials.get());
    assertEquals(1, issued.get());
  }

  @Test
  void aCertificateIsRenewedAtTwoThirdsOfItsLifeNotBefore() {
    TransportCredentials first = credentials.get();

    clock.set(issuedAt.plus(Duration.ofHours(16)).minusSeconds(1));
    assertSame(first, credentials.get(), "a third of its life is left: it still serves");
    clock.set(issuedAt.plus(Duration.ofHours(16)));
    TransportCredentials renewed = credentials.get();

    assertEquals(2, issued.get());
    assertNotEquals(first.key(), renewed.key(), "a renewal makes a new key");
    assertSame(renewed, credentials.get());
  }

  @Test
  void theRenewalTimeIsTwoThirdsIntoTheCertificatesLife() {
    TransportCredentials first = credentials.get();

    assertEquals(
        issuedAt.plus(Duration.ofHours(16)), IssuedCredentials.renewAt(first.chain().get(0)));
  }

  @Test
  void aFailedRenewalKeepsTheCurrentCertificateWhileItIsValid() {
    TransportCredentials first = credentials.get();
    issuerDown = true;

    clock.set(issuedAt.plus(Duration.ofHours(20)));
    assertSame(first, credentials.get());

    clock.set(issuedAt.plus(LIFE).plusSeconds(1));
    NoCredentialsException expired = assertThrows(NoCredentialsException.class, credentials::get);
    assertTrue(expired.getMessage().contains("RequestedNameMismatch"), expired.getMessage());
  }

  @Test
  void aChangedBundleServesTheNextStreamWithoutANewCertificate() {
    TransportCredentials first = credentials.get();
    CertificateAuthority other = CertificateAuthority.create("vfio-operator transport CA");
    bundle = List.of(ca.certificate(), other.certificate());

    credentials.refreshTrust();

    TransportCredentials next = credentials.get();
    assertEquals(bundle, next.trusted());
    assertEquals(first.key(), next.key());
    assertEquals(1, issued.get());
  }

  @Test
  void anUnchangedBundleChangesNothing() {
    TransportCredentials first = credentials.get();

    credentials.refreshTrust();

    assertSame(first, credentials.get());
    assertEquals(1, issued.get());
  }

  @Test
  void aCertificateOfACaNoLongerCurrentIsRenewedAtOnceByTheNewCa() {
    TransportCredentials first = credentials.get();
    CertificateAuthority rotated = CertificateAuthority.create("vfio-operator transport CA");
    signing = rotated;
    bundle = List.of(rotated.certificate(), ca.certificate());

    credentials.refreshTrust();

    TransportCredentials renewed = credentials.get();
    assertEquals(2, issued.get(), "renewed long before two thirds of its life");
    assertTrue(renewed.issuedBy(rotated.certificate()));
    assertEquals(bundle, renewed.trusted());
    assertNotEquals(first.key(), renewed.key());
    credentials.refreshTrust();
    assertEquals(2, issued.get(), "a certificate of the current CA is not renewed again");
  }

  @Test
  void aFailedEarlyRenewalKeepsTheOldCertificateTrustingTheNewBundle() {
    credentials.get();
    CertificateAuthority rotated = CertificateAuthority.create("vfio-operator transport CA");
    signing = rotated;
    bundle = List.of(rotated.certificate(), ca.certificate());
    issuerDown = true;

    credentials.refreshTrust();

    TransportCredentials kept = credentials.get();
    assertTrue(kept.issuedBy(ca.certificate()));
    assertEquals(bundle, kept.trusted(), "it accepts peers already renewed");
    issuerDown = false;
    credentials.refreshTrust();
    assertTrue(credentials.get().issuedBy(rotated.certificate()), "the next refresh renews");
  }

  @Test
  void anUnreadableBundleKeepsTheCredentials() {
    TransportCredentials first = credentials.get();
    bundleUnreadable = true;

    credentials.refreshTrust();

    assertSame(first, credentials.get());
  }

  /** A clock the test moves. */
  private static final class MovableClock extends Clock {
    private volatile Instant now;

    MovableClock(Instant now) {
      this.now = now;
    }

    void set(Instant now) {
      this.now = now;
    }

    @Override
    public Instant instant() {
      return now;
    }

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }
  }
}
