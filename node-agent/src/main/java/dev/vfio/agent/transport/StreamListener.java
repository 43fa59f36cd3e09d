package dev.vfio.agent.transport;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.SocketAddress;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The receiving end of one Receive task: a TLS listener that accepts the state streams of the
 * task's devices and nothing else. A peer must present a certificate from the transport CA
 * (mutual TLS) and then the task's token ({@link StreamHandshake}); any other connection is
 * refused and the listener goes on waiting for the right one. Each device is accepted once.
 *
 * <p>All streams of the listener share one byte budget, and each read waits at most the idle
 * timeout. Closing the listener closes the streams it accepted, so cancelling a task stops every
 * transfer it started. {@link #accept} may be called from several threads at once, one per
 * device.
 */
public final class StreamListener implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(StreamListener.class);

  private final SSLServerSocket server;
  private final byte[] tokenDigest;
  private final ByteBudget budget;
  private final Duration idleTimeout;
  /** SO_TIMEOUT belongs to the server socket, so one accept at a time sets and uses it. */
  private final ReentrantLock acceptLock = new ReentrantLock();
  private final Set<SSLSocket> accepted = ConcurrentHashMap.newKeySet();
  private final Set<String> devices = ConcurrentHashMap.newKeySet();

  private StreamListener(SSLServerSocket server, byte[] tokenDigest, ByteBudget budget,
      Duration idleTimeout) {
    this.server = server;
    this.tokenDigest = tokenDigest;
    this.budget = budget;
    this.idleTimeout = idleTimeout;
  }

  /**
   * Listens for the streams of one task.
   *
   * @param bind the address to listen on; the pod IP, or null for every address
   * @param port the port, or 0 for any free port ({@link #port} tells which)
   * @param token the task's secret; a sender must present exactly this
   * @param byteBudget the most bytes all streams together may carry after their handshakes
   * @param idleTimeout the longest a read waits for the next byte, and a handshake for its end
   */
  public static StreamListener open(TransportCredentials credentials, InetAddress bind, int port,
      String token, long byteBudget, Duration idleTimeout) throws IOException {
    StreamHandshake.requireToken(token);
    requirePositive(idleTimeout, "idle timeout");
    ByteBudget budget = new ByteBudget(byteBudget);
    SSLServerSocket server = (SSLServerSocket)
        credentials.sslContext().getServerSocketFactory().createServerSocket(port, 50, bind);
    server.setEnabledProtocols(new String[] {TransportCredentials.PROTOCOL});
    server.setNeedClientAuth(true);
    return new StreamListener(server, digest(token.getBytes(StandardCharsets.UTF_8)), budget,
        idleTimeout);
  }

  /** The port the listener is bound to. */
  public int port() {
    return server.getLocalPort();
  }

  /**
   * Waits for the next sender with a CA certificate and the task's token and accepts its stream.
   * Connections that fail the TLS handshake, send a malformed handshake or a wrong token, name a
   * device already accepted, or stall for the idle timeout are refused and closed; waiting goes
   * on until a sender is accepted or {@code timeout} has passed. A peer that connected in time
   * may take one idle timeout longer to finish its handshake.
   *
   * @throws SocketTimeoutException if no sender was accepted within {@code timeout}
   * @throws SocketException if the listener was closed
   */
  public IncomingStream accept(Duration timeout) throws IOException {
    requirePositive(timeout, "accept timeout");
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      SSLSocket socket = acceptConnection(deadline, timeout);
      // The handshake runs outside the lock, so a slow peer does not hold up other devices.
      IncomingStream stream = admit(socket);
      if (stream != null) {
        return stream;
      }
    }
  }

  /** Stops listening and closes every stream this listener accepted. */
  @Override
  public void close() throws IOException {
    IOException failure = null;
    try {
      server.close();
    } catch (IOException e) {
      failure = e;
    }
    for (SSLSocket socket : accepted) {
      try {
        socket.close();
      } catch (IOException e) {
        if (failure == null) {
          failure = e;
        } else {
          failure.addSuppressed(e);
        }
      }
    }
    accepted.clear();
    if (failure != null) {
      throw failure;
    }
  }

  private SSLSocket acceptConnection(long deadline, Duration timeout) throws IOException {
    try {
      if (!acceptLock.tryLock(remainingNanos(deadline), TimeUnit.NANOSECONDS)) {
        throw noSender(timeout);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while waiting for a state stream");
    }
    try {
      long remaining = remainingNanos(deadline);
      if (remaining <= 0) {
        throw noSender(timeout);
      }
      server.setSoTimeout(millisAtLeastOne(remaining));
      return (SSLSocket) server.accept();
    } catch (SocketTimeoutException e) {
      throw noSender(timeout);
    } finally {
      acceptLock.unlock();
    }
  }

  /** The stream of an accepted peer, or null when the peer was refused. */
  private IncomingStream admit(SSLSocket socket) {
    SocketAddress peer = socket.getRemoteSocketAddress();
    String admitted = null;
    try {
      // A peer that connected in time gets its handshake, even if the accept timeout runs out.
      socket.setSoTimeout(millisAtLeastOne(idleTimeout.toNanos()));
      // TLS first: nothing a peer without a CA certificate sends is read.
      socket.startHandshake();
      InputStream in = socket.getInputStream();
      OutputStream out = socket.getOutputStream();
      StreamHandshake.Request request = StreamHandshake.readRequest(in);
      if (!MessageDigest.isEqual(tokenDigest, digest(request.token()))) {
        refuse(socket, out, peer, "wrong token for device " + request.device());
        return null;
      }
      if (!devices.add(request.device())) {
        refuse(socket, out, peer, "device " + request.device() + " was already accepted");
        return null;
      }
      admitted = request.device();
      accepted.add(socket);
      if (server.isClosed()) {
        // close() may have run between the two checks; it must not leave this socket open.
        accepted.remove(socket);
        socket.close();
        return null;
      }
      StreamHandshake.writeAnswer(out, StreamHandshake.ACCEPTED);
      LOG.info("accepted the state stream of device {} from {}", request.device(), peer);
      return new IncomingStream(request.device(),
          new IncomingData(socket, budget, idleTimeout, () -> accepted.remove(socket)), out);
    } catch (IOException | RuntimeException e) {
      LOG.warn("refused a state stream connection from {}: {}", peer, e.toString());
      if (admitted != null) {
        // Nothing reached the caller, so the sender may try this device again.
        devices.remove(admitted);
      }
      accepted.remove(socket);
      closeQuietly(socket);
      return null;
    }
  }

  private static void refuse(SSLSocket socket, OutputStream out, SocketAddress peer,
      String reason) {
    LOG.warn("refused a state stream connection from {}: {}", peer, reason);
    try {
      StreamHandshake.writeAnswer(out, StreamHandshake.REFUSED);
    } catch (IOException e) {
      // The peer may be gone already; it is refused either way.
    }
    closeQuietly(socket);
  }

  private static void closeQuietly(SSLSocket socket) {
    try {
      socket.close();
    } catch (IOException e) {
      LOG.debug("closing a refused connection failed", e);
    }
  }

  private static SocketTimeoutException noSender(Duration timeout) {
    return new SocketTimeoutException("no sender with a transport certificate and the task's "
        + "token connected within " + timeout);
  }

  /**
   * Both sides are hashed so that the comparison takes the same time whatever the lengths and
   * contents: a peer learns nothing about the token from how fast it is refused.
   */
  private static byte[] digest(byte[] token) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(token);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java runtime provides SHA-256", e);
    }
  }

  private static long remainingNanos(long deadline) {
    return deadline - System.nanoTime();
  }

  /** Socket timeouts are in milliseconds and 0 means forever: round up, never down to 0. */
  private static int millisAtLeastOne(long nanos) {
    long millis = TimeUnit.NANOSECONDS.toMillis(nanos + 999_999);
    return (int) Math.max(1, Math.min(millis, Integer.MAX_VALUE));
  }

  private static void requirePositive(Duration duration, String what) {
    if (duration == null || duration.isNegative() || duration.isZero()) {
      throw new IllegalArgumentException(what + " must be positive, not " + duration);
    }
  }
}
