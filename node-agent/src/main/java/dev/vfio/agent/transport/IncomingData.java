package dev.vfio.agent.transport;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;

/**
 * The bytes after an accepted handshake, charged to the listener's budget. The socket's read
 * timeout is the idle timeout, and a timeout says so: a sender that stalls must not hold a
 * device in RESUMING forever.
 */
final class IncomingData extends InputStream {
  private final Socket socket;
  private final InputStream in;
  private final ByteBudget budget;
  private final Duration idleTimeout;
  private final Runnable onClose;

  IncomingData(Socket socket, ByteBudget budget, Duration idleTimeout, Runnable onClose)
      throws IOException {
    this.socket = socket;
    this.in = socket.getInputStream();
    this.budget = budget;
    this.idleTimeout = idleTimeout;
    this.onClose = onClose;
  }

  @Override
  public int read() throws IOException {
    byte[] one = new byte[1];
    return read(one, 0, 1) < 0 ? -1 : Byte.toUnsignedInt(one[0]);
  }

  @Override
  public int read(byte[] b, int off, int len) throws IOException {
    int n;
    try {
      n = in.read(b, off, len);
    } catch (SocketTimeoutException e) {
      SocketTimeoutException idle = new SocketTimeoutException("no data from the sender at "
          + socket.getRemoteSocketAddress() + " within the idle timeout of " + idleTimeout);
      idle.initCause(e);
      throw idle;
    }
    if (n > 0) {
      budget.spend(n);
    }
    return n;
  }

  @Override
  public void close() throws IOException {
    try {
      socket.close();
    } finally {
      onClose.run();
    }
  }
}
