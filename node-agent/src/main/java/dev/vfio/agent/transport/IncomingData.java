package dev.vfio.agent.transport;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.time.Duration;

/**
 * The bytes after an accepted handshake, charged to the listener's budget. The socket's read
 * timeout is the idle timeout, and a timeout says so: a sender that stalls must not hold a device
 * in RESUMING forever. The sender frames its bytes ({@link OutgoingStream}) so that it can send
 * keep-alive frames while a device waits for the others, which this stream skips — but not without
 * end, and not for free: each frame header is charged to the budget, and a stream that sends {@link
 * #MAX_KEEP_ALIVES} keep-alives in a row without state is cut.
 */
final class IncomingData extends InputStream {
  /**
   * Keep-alives in a row a stream may send without state: a sender sends one every third of its
   * idle timeout while its device waits for the others, so about 2.8 hours of waiting at the
   * default 30 s, longer than any device's STOP_COPY, while a sender holding a valid token cannot
   * keep a device in RESUMING for good.
   */
  static final int MAX_KEEP_ALIVES = 1024;

  private final Socket socket;
  private final InputStream in;
  private final ByteBudget budget;
  private final Duration idleTimeout;
  private final Runnable onClose;
  private final byte[] header = new byte[Integer.BYTES];
  private int remaining;
  private int keepAlivesInARow;

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
    if (len == 0) {
      return 0;
    }
    while (remaining == 0) {
      if (!readHeader()) {
        return -1;
      }
    }
    int n = timed(() -> in.read(b, off, Math.min(len, remaining)));
    if (n < 0) {
      // A connection cut inside a frame: the blob decoder reports the state as truncated.
      return -1;
    }
    remaining -= n;
    budget.spendReceived(n);
    return n;
  }

  /**
   * Reads the next frame header; false at a clean end of stream. Keep-alive frames (length 0) are
   * skipped.
   */
  private boolean readHeader() throws IOException {
    int read = 0;
    while (read < header.length) {
      int offset = read;
      int n = timed(() -> in.read(header, offset, header.length - offset));
      if (n < 0) {
        // A clean end or a cut inside a header: either way the blob decoder judges what it got.
        return false;
      }
      read += n;
    }
    budget.spendReceived(header.length);
    int length = ByteBuffer.wrap(header).getInt();
    if (length < 0 || length > OutgoingStream.MAX_FRAME_BYTES) {
      throw new IOException(
          "bad frame length " + length + " from " + socket.getRemoteSocketAddress());
    }
    keepAlivesInARow = length == 0 ? keepAlivesInARow + 1 : 0;
    if (keepAlivesInARow > MAX_KEEP_ALIVES) {
      throw new IOException(
          MAX_KEEP_ALIVES
              + " keep-alives in a row without state from "
              + socket.getRemoteSocketAddress());
    }
    remaining = length;
    return true;
  }

  private interface SocketRead {
    int read() throws IOException;
  }

  private int timed(SocketRead read) throws IOException {
    try {
      return read.read();
    } catch (SocketTimeoutException e) {
      SocketTimeoutException idle =
          new SocketTimeoutException(
              "no data from the sender at "
                  + socket.getRemoteSocketAddress()
                  + " within the idle timeout of "
                  + idleTimeout);
      idle.initCause(e);
      throw idle;
    }
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
