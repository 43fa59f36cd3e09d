package dev.vfio.agent.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class IssuedCredentialsTest {
  private static final Duration LIFE = Duration.ofHours(24);

  private final CertificateAuthority ca = CertificateAuthority.create("vfio-operator transport CA");
  private final Instant issuedAt = Instant.now().truncatedTo(ChronoUnit.SECONDS);
  private final MovableClock clock = new MovableClock(issuedAt);
  private final AtomicInteger issued = new AtomicInteger();
  private volatile boolean issuerDown;

  private final IssuedCredentials credentials =
      new IssuedCredentials(
          () -> {
            if (issuerDown) {
              throw new IOException("certificate request was denied: RequestedNameMismatch");
            }
            // Each from the start of the test, the nth living n days: the credentials check their
            // certificate against the real time, which the test's clock leaves behind.
            return ca.issue("node-a", issuedAt, LIFE.multipliedBy(issued.incrementAndGet()))
                .credentials();
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
