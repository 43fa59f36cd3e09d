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
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The receiving end of one Receive task: a TLS listener that accepts the state streams of the
 * task's devices and nothing else. A peer must present a certificate from the transport CA (mutual
 * TLS) that names the task's source node, and then the task's token ({@link StreamHandshake}); any
 * other connection is refused and the listener goes on waiting for the right one — except a peer
 * with another node's certificate: only an agent of the cluster holds one, so that is an agent
 * posing as the source, and {@link #accept} reports it. Each device is accepted once.
 *
 * <p>Anyone on the pod network can open a connection to the port, so no connection may hold up
 * another: a thread of the listener's own accepts connections as they come and hands each to a
 * handshake thread, which gives the peer {@link #HANDSHAKE_TIMEOUT} to finish TLS and the token; at
 * most {@link #MAX_HANDSHAKES} handshakes run at once and a connection beyond them is closed at
 * once. Admitted streams wait in a queue for {@link #accept}.
 *
 * <p>All streams of the listener share one byte budget, and each read waits at most the idle
 * timeout. Closing the listener closes the streams it accepted, so cancelling a task stops every
 * transfer it started. {@link #accept} may be called from several threads at once, one per device.
 *
 * <p>Past 300 lines: accepting, admitting (TLS, peer name, token, device) and handing streams over
 * all read and write the same state — handshake slots, accepted sockets, devices taken, the
 * impostor seen — which {@link #close} must end as one; split, each part would hold all of it.
 */
public final class StreamListener implements AutoCloseable {
  /** How long a connected peer has to finish TLS and present its token. */
  static final Duration HANDSHAKE_TIMEOUT = Duration.ofSeconds(5);

  /**
   * Handshakes in progress at once; a task has a handful of devices, an attacker has many sockets.
   */
  static final int MAX_HANDSHAKES = 64;

  /** How often a waiting {@link #accept} looks for a refused impostor. */
  private static final Duration IMPOSTOR_CHECK = Duration.ofMillis(50);

  private static final Logger LOG = LoggerFactory.getLogger(StreamListener.class);

  private final SSLServerSocket server;
  private final String peerNode;
  private final byte[] tokenDigest;
  private final ByteBudget budget;
  private final Duration idleTimeout;
  private final Duration handshakeTimeout;
  private final Semaphore handshakeSlots = new Semaphore(MAX_HANDSHAKES);
  private final ExecutorService handshakes;
  private final BlockingQueue<IncomingStream> admitted = new LinkedBlockingQueue<>();
  private final Set<SSLSocket> accepted = ConcurrentHashMap.newKeySet();
  private final Set<String> devices = ConcurrentHashMap.newKeySet();

  /** The first sender refused for naming another node than {@link #peerNode}; null while none. */
  private volatile PeerIdentityException impostor;

  private StreamListener(
      SSLServerSocket server,
      String peerNode,
      byte[] tokenDigest,
      ByteBudget budget,
      Duration idleTimeout) {
    this.server = server;
    this.peerNode = peerNode;
    this.tokenDigest = tokenDigest;
    this.budget = budget;
    this.idleTimeout = idleTimeout;
    this.handshakeTimeout =
        idleTimeout.compareTo(HANDSHAKE_TIMEOUT) < 0 ? idleTimeout : HANDSHAKE_TIMEOUT;
    this.handshakes =
        Executors.newCachedThreadPool(daemon("stream-handshake-" + server.getLocalPort()));
    daemon("stream-accept-" + server.getLocalPort()).newThread(this::acceptConnections).start();
  }

  /**
   * Listens for the streams of one task.
   *
   * @param bind the address to listen on; the pod IP, or null for every address
   * @param port the port, or 0 for any free port ({@link #port} tells which)
   * @param peerNode the node of the sender: its certificate must name it
   * @param token the task's secret; a sender must present exactly this
   * @param byteBudget the most bytes all streams together may carry after their handshakes
   * @param idleTimeout the longest a read waits for the next byte; a handshake gets at most this
   *     and at most {@link #HANDSHAKE_TIMEOUT}
   */
  public static StreamListener open(
      TransportCredentials credentials,
      InetAddress bind,
      int port,
      String peerNode,
      String token,
      long byteBudget,
      Duration idleTimeout)
      throws IOException {
    StreamHandshake.requireToken(token);
    requirePositive(idleTimeout, "idle timeout");
    ByteBudget budget = new ByteBudget(byteBudget);
    SSLServerSocket server =
        (SSLServerSocket)
            credentials.sslContext().getServerSocketFactory().createServerSocket(port, 50, bind);
    server.setEnabledProtocols(new String[] {TransportCredentials.PROTOCOL});
    server.setNeedClientAuth(true);
    return new StreamListener(
        server, peerNode, digest(token.getBytes(StandardCharsets.UTF_8)), budget, idleTimeout);
  }

  /** The port the listener is bound to. */
  public int port() {
    return server.getLocalPort();
  }

  /**
   * Waits for the next sender with a CA certificate and the task's token and returns its stream.
   * Connections that fail the TLS handshake, send a malformed handshake or a wrong token, name a
   * device already accepted, or do not finish their handshake in time are refused and closed,
   * without delaying anyone else.
   *
   * @throws PeerIdentityException once a peer presented another node's certificate
   * @throws SocketTimeoutException if no sender was accepted within {@code timeout}
   * @throws SocketException if the listener was closed
   */
  public IncomingStream accept(Duration timeout) throws IOException {
    requirePositive(timeout, "accept timeout");
    IncomingStream stream = null;
    long deadline = System.nanoTime() + timeout.toNanos();
    try {
      // In slices, so that an impostor is reported at once rather than after the timeout.
      for (long left = timeout.toNanos();
          stream == null && left > 0 && impostor == null && !server.isClosed();
          left = deadline - System.nanoTime()) {
        stream = admitted.poll(Math.min(left, IMPOSTOR_CHECK.toNanos()), TimeUnit.NANOSECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while waiting for a state stream");
    }
    if (server.isClosed()) {
      throw new SocketException("the state stream listener is closed");
    }
    PeerIdentityException refused = impostor;
    if (refused != null) {
      throw refused;
    }
    if (stream == null) {
      throw new SocketTimeoutException(
          "no sender with a transport certificate and the task's "
              + "token connected within "
              + timeout);
    }
    return stream;
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
    handshakes.shutdownNow();
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
    admitted.clear();
    if (failure != null) {
      throw failure;
    }
  }

  private void acceptConnections() {
    while (!server.isClosed()) {
      SSLSocket socket;
      try {
        socket = (SSLSocket) server.accept();
      } catch (IOException e) {
        if (!server.isClosed()) {
          LOG.warn("accepting a state stream connection failed: {}", e.toString());
        }
        continue;
      }
      if (!handshakeSlots.tryAcquire()) {
        LOG.warn(
            "refused a state stream connection from {}: {} handshakes already in progress",
            socket.getRemoteSocketAddress(),
            MAX_HANDSHAKES);
        closeQuietly(socket);
        continue;
      }
      try {
        handshakes.execute(
            () -> {
              try {
                IncomingStream stream = admit(socket);
                if (stream != null) {
                  admitted.add(stream);
                }
              } finally {
                handshakeSlots.release();
              }
            });
      } catch (RejectedExecutionException e) {
        handshakeSlots.release();
        closeQuietly(socket);
      }
    }
  }

  /** The stream of an accepted peer, or null when the peer was refused. */
  private IncomingStream admit(SSLSocket socket) {
    SocketAddress peer = socket.getRemoteSocketAddress();
    String admitted = null;
    try {
      socket.setSoTimeout(millisAtLeastOne(handshakeTimeout.toNanos()));
      // TLS first: nothing a peer without a CA certificate sends is read.
      socket.startHandshake();
      PeerIdentity.require(socket.getSession(), peerNode, "sender at " + peer);
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
      // From here on the stream's reads wait the idle timeout, not the handshake's.
      socket.setSoTimeout(millisAtLeastOne(idleTimeout.toNanos()));
      LOG.info("accepted the state stream of device {} from {}", request.device(), peer);
      return new IncomingStream(
          request.device(),
          new IncomingData(socket, budget, idleTimeout, () -> accepted.remove(socket)),
          budget);
    } catch (PeerIdentityException e) {
      LOG.warn("refused a state stream connection from {}: {}", peer, e.getMessage());
      if (impostor == null) {
        impostor = e;
      }
      closeQuietly(socket);
      return null;
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

  private static void refuse(
      SSLSocket socket, OutputStream out, SocketAddress peer, String reason) {
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

  /** Socket timeouts are in milliseconds and 0 means forever: round up, never down to 0. */
  private static int millisAtLeastOne(long nanos) {
    long millis = TimeUnit.NANOSECONDS.toMillis(nanos + 999_999);
    return (int) Math.max(1, Math.min(millis, Integer.MAX_VALUE));
  }

  private static ThreadFactory daemon(String name) {
    return runnable -> {
      Thread thread = new Thread(runnable, name);
      thread.setDaemon(true);
      return thread;
    };
  }

  private static void requirePositive(Duration duration, String what) {
    if (duration == null || duration.isNegative() || duration.isZero()) {
      throw new IllegalArgumentException(what + " must be positive, not " + duration);
    }
  }
}
