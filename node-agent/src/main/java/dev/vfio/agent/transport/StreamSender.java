package dev.vfio.agent.transport;

import java.io.EOFException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSocket;

/**
 * The sending end of a state stream: connects to a {@link StreamListener} over mutual TLS, presents
 * the task's token and the device, and hands back the stream once the receiver accepted them.
 */
public final class StreamSender {
  private StreamSender() {}

  /**
   * Connects to the receiver of one task and asks to send the state of {@code device}.
   *
   * @param host the receiver's pod IP; its certificate is checked against the CA, not the address
   * @param peerNode the node of the receiver: its certificate must name it, or nothing is sent
   * @param idleTimeout bounds the connect, the TLS handshake and the wait for the receiver's
   *     answer. Writes are not bounded by it: a receiver that stops reading fails its own reads on
   *     its idle timeout and closes, which fails the write.
   * @throws PeerIdentityException if the receiver's certificate names another node than {@code
   *     peerNode}; the token was not sent
   * @throws IOException if the receiver cannot be reached, its certificate is not from the CA, or
   *     it refused this sender's certificate, the token or the device
   */
  public static OutgoingStream connect(
      TransportCredentials credentials,
      String host,
      int port,
      String peerNode,
      String token,
      String device,
      Duration idleTimeout)
      throws IOException {
    return connect(credentials.sslContext(), host, port, peerNode, token, device, idleTimeout);
  }

  static OutgoingStream connect(
      SSLContext context,
      String host,
      int port,
      String peerNode,
      String token,
      String device,
      Duration idleTimeout)
      throws IOException {
    // Checked before connecting: a bad argument is this agent's bug, not the receiver's refusal.
    byte[] request = StreamHandshake.encodeRequest(token, device);
    if (idleTimeout == null || idleTimeout.isNegative() || idleTimeout.isZero()) {
      throw new IllegalArgumentException("idle timeout must be positive, not " + idleTimeout);
    }
    int timeoutMillis =
        (int)
            Math.max(
                1,
                Math.min(TimeUnit.NANOSECONDS.toMillis(idleTimeout.toNanos()), Integer.MAX_VALUE));
    String receiver = host + ":" + port;
    // TLS over a plain socket of our own: closing the plain socket is what unblocks a write the
    // receiver stopped taking (an SSLSocket's own close waits for that very write).
    Socket raw = new Socket();
    SSLSocket socket;
    try {
      raw.connect(new InetSocketAddress(host, port), timeoutMillis);
      socket = (SSLSocket) context.getSocketFactory().createSocket(raw, host, port, true);
    } catch (IOException | RuntimeException e) {
      raw.close();
      throw new IOException(
          "cannot open the state stream of device "
              + device
              + " to the receiver at "
              + receiver
              + ": "
              + e.getMessage(),
          e);
    }
    int answer;
    try {
      socket.setEnabledProtocols(new String[] {TransportCredentials.PROTOCOL});
      socket.setSoTimeout(timeoutMillis);
      socket.startHandshake();
      // Before the token: another node's agent must learn nothing that would let it pose as the
      // receiver.
      PeerIdentity.require(socket.getSession(), peerNode, "receiver at " + receiver);
      socket.getOutputStream().write(request);
      socket.getOutputStream().flush();
      // With TLS 1.3 the receiver checks this sender's certificate after the client finished its
      // handshake, so a refusal of the certificate also arrives here, as an alert.
      answer = StreamHandshake.readAnswer(socket.getInputStream());
    } catch (EOFException e) {
      closeAfterFailure(socket, e);
      throw new IOException(
          "the receiver at "
              + receiver
              + " closed the connection for device "
              + device
              + " without accepting it: it refused the token, the device or this agent's "
              + "certificate",
          e);
    } catch (PeerIdentityException e) {
      closeAfterFailure(socket, e);
      throw e;
    } catch (SSLException e) {
      closeAfterFailure(socket, e);
      throw new SSLException(
          "TLS with the receiver at "
              + receiver
              + " failed for device "
              + device
              + "; both agents need certificates from the transport CA: "
              + e.getMessage(),
          e);
    } catch (IOException e) {
      closeAfterFailure(socket, e);
      throw new IOException(
          "cannot open the state stream of device "
              + device
              + " to the receiver at "
              + receiver
              + ": "
              + e.getMessage(),
          e);
    } catch (RuntimeException e) {
      closeAfterFailure(socket, e);
      throw e;
    }
    if (answer != StreamHandshake.ACCEPTED) {
      IOException refused =
          new IOException(
              "the receiver at "
                  + receiver
                  + " refused the token or device "
                  + device
                  + " (answer "
                  + answer
                  + ")");
      closeAfterFailure(socket, refused);
      throw refused;
    }
    return new OutgoingStream(socket, raw, device, idleTimeout);
  }

  private static void closeAfterFailure(SSLSocket socket, Exception cause) {
    try {
      socket.close();
    } catch (IOException e) {
      cause.addSuppressed(e);
    }
  }
}
