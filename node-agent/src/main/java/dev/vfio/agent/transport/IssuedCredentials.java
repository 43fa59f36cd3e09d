package dev.vfio.agent.transport;

import java.io.IOException;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
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
 */
public final class IssuedCredentials implements Supplier<TransportCredentials>, AutoCloseable {
  /** Makes a new key and gets a certificate for it. */
  @FunctionalInterface
  public interface Issuer {
    TransportCredentials issue() throws IOException, InterruptedException;
  }

  /** How soon a failed background renewal is tried again. */
  static final Duration RETRY = Duration.ofSeconds(30);

  private static final Logger LOG = LoggerFactory.getLogger(IssuedCredentials.class);

  private final Issuer issuer;
  private final Clock clock;
  private final ScheduledExecutorService renewals =
      Executors.newSingleThreadScheduledExecutor(
          r -> {
            Thread thread = new Thread(r, "transport-renewal");
            thread.setDaemon(true);
            return thread;
          });
  private volatile TransportCredentials current;

  public IssuedCredentials(Issuer issuer, Clock clock) {
    this.issuer = issuer;
    this.clock = clock;
  }

  /** Asks for the first certificate now, in the background, and renews each one when due. */
  public void start() {
    renewals.execute(this::renewInBackground);
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
