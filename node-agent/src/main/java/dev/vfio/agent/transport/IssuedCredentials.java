package dev.vfio.agent.transport;

import java.io.IOException;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This agent's transport credentials, short-lived and renewed before they expire: at two thirds of
 * a certificate's life a new key and certificate replace it, in the background and, should that
 * have failed, on the next {@link #get}. Each stream builds its TLS context from what {@link #get}
 * returns when it opens, so a renewal changes the next stream and never a running one, and the
 * agent is not restarted.
 *
 * <p>The CAs trusted are read again every {@code refresh}: a changed bundle serves the next stream,
 * and a certificate whose CA is no longer the bundle's first (the operator rotated its CA) is
 * renewed at once, so agents move to the new CA long before the old one leaves the bundle (decision
 * 0011).
 */
public final class IssuedCredentials implements Supplier<TransportCredentials>, AutoCloseable {
  /** Makes a new key and gets a certificate for it. */
  @FunctionalInterface
  public interface Issuer {
    TransportCredentials issue() throws IOException, InterruptedException;
  }

  /** Reads the CAs to trust, the current one first. */
  @FunctionalInterface
  public interface TrustBundle {
    List<X509Certificate> read() throws IOException;
  }

  /** How soon a failed background renewal is tried again. */
  static final Duration RETRY = Duration.ofSeconds(30);

  private static final Logger LOG = LoggerFactory.getLogger(IssuedCredentials.class);

  private final Issuer issuer;
  private final TrustBundle bundle;
  private final Clock clock;
  private final ScheduledExecutorService renewals =
      Executors.newSingleThreadScheduledExecutor(
          r -> {
            Thread thread = new Thread(r, "transport-renewal");
            thread.setDaemon(true);
            return thread;
          });
  private volatile TransportCredentials current;

  public IssuedCredentials(Issuer issuer, TrustBundle bundle, Clock clock) {
    this.issuer = issuer;
    this.bundle = bundle;
    this.clock = clock;
  }

  /**
   * Asks for the first certificate now, in the background, renews each one when due, and reads the
   * trust bundle again every {@code refresh}.
   */
  public void start(Duration refresh) {
    renewals.execute(this::renewInBackground);
    renewals.scheduleWithFixedDelay(
        this::refreshTrust, refresh.toMillis(), refresh.toMillis(), TimeUnit.MILLISECONDS);
  }

  /**
   * Takes the bundle as it is now: the credentials trust it from the next stream on, and are
   * renewed at once if their certificate was not signed by its current CA.
   */
  void refreshTrust() {
    TransportCredentials known = current;
    if (known == null) {
      return;
    }
    List<X509Certificate> cas;
    try {
      cas = bundle.read();
    } catch (IOException | RuntimeException e) {
      LOG.warn("could not read the transport CA bundle, keeping the one known: {}", e.getMessage());
      return;
    }
    TransportCredentials trusting = known;
    if (!cas.equals(known.trusted())) {
      try {
        trusting = known.trusting(cas);
        current = trusting;
        LOG.info("the transport CA bundle changed; it now holds {} CA(s)", cas.size());
      } catch (IllegalArgumentException e) {
        LOG.warn("this agent's certificate chains to no CA of the new bundle: {}", e.getMessage());
      }
    }
    if (!trusting.issuedBy(cas.get(0))) {
      LOG.info("the transport CA rotated; renewing this agent's certificate now");
      try {
        renew(trusting);
      } catch (NoCredentialsException e) {
        // No valid certificate is left either; the next refresh or stream asks again.
        LOG.warn("{}", e.getMessage());
      }
    }
  }

  /**
   * The current credentials, renewed first if they are due.
   *
   * @throws NoCredentialsException if there are none valid and no new ones could be had
   */
  @Override
  public TransportCredentials get() {
    TransportCredentials known = current;
    if (known != null && clock.instant().isBefore(renewAt(known.chain().get(0)))) {
      return known;
    }
    return renew(known);
  }

  /** When a certificate is renewed: two thirds into its life. */
  static Instant renewAt(X509Certificate certificate) {
    Instant notBefore = certificate.getNotBefore().toInstant();
    Duration life = Duration.between(notBefore, certificate.getNotAfter().toInstant());
    return notBefore.plus(life.multipliedBy(2).dividedBy(3));
  }

  private synchronized TransportCredentials renew(TransportCredentials seen) {
    TransportCredentials now = current;
    if (now != seen && now != null && clock.instant().isBefore(renewAt(now.chain().get(0)))) {
      // Renewed while this thread waited for the lock.
      return now;
    }
    try {
      TransportCredentials issued = issuer.issue();
      current = issued;
      LOG.info(
          "got transport certificate {} valid until {}",
          issued.chain().get(0).getSubjectX500Principal(),
          issued.chain().get(0).getNotAfter().toInstant());
      return issued;
    } catch (IOException | RuntimeException e) {
      if (now != null && clock.instant().isBefore(now.chain().get(0).getNotAfter().toInstant())) {
        LOG.warn(
            "renewing the transport certificate failed, the current one still serves: {}",
            e.getMessage());
        return now;
      }
      throw new NoCredentialsException(
          "this agent has no transport certificate: " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new NoCredentialsException("interrupted while asking for a transport certificate", e);
    }
  }

  private void renewInBackground() {
    Duration next = RETRY;
    try {
      Instant due = renewAt(get().chain().get(0));
      // Past due, the renewal failed and the current certificate still serves: retry soon.
      if (clock.instant().isBefore(due)) {
        next = Duration.between(clock.instant(), due);
      }
    } catch (NoCredentialsException e) {
      LOG.warn("{}; trying again in {}", e.getMessage(), RETRY);
    }
    if (!renewals.isShutdown()) {
      renewals.schedule(this::renewInBackground, next.toMillis(), TimeUnit.MILLISECONDS);
    }
  }

  @Override
  public void close() {
    renewals.shutdownNow();
  }
}
