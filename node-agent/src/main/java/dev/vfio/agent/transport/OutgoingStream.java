package dev.vfio.agent.transport;

import java.io.BufferedOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * A stream the receiver accepted for one device: write one blob into it with {@code
 * BlobStreamWriter}, then close it. Closing without finishing the blob is how a sender that failed
 * tells the receiver: it finds the blob truncated.
 *
 * <p>Bytes travel in frames ({@code u32 length} + bytes) so that, while this device waits — for the
 * other devices of the pod to finish PRE_COPY, for the pod to freeze — the stream sends empty
 * keep-alive frames and the receiver's idle timeout only fires on a sender that is really gone.
 */
public final class OutgoingStream extends OutputStream {
  /** The largest frame; a receiver refuses longer ones. */
  static final int MAX_FRAME_BYTES = 1 << 20;

  private static final ScheduledExecutorService KEEP_ALIVE =
      Executors.newSingleThreadScheduledExecutor(
          r -> {
            Thread thread = new Thread(r, "stream-keep-alive");
            thread.setDaemon(true);
            return thread;
          });

  private final Socket socket;
  private final DataOutputStream out;
  private final String device;
  private final long keepAliveNanos;
  private final ScheduledFuture<?> keepAlive;
  private long lastWrite = System.nanoTime();

  OutgoingStream(Socket socket, String device, Duration idleTimeout) throws IOException {
    this.socket = socket;
    this.out = new DataOutputStream(new BufferedOutputStream(socket.getOutputStream(), 64 << 10));
    this.device = device;
    this.keepAliveNanos = Math.max(1, idleTimeout.toNanos() / 3);
    this.keepAlive =
        KEEP_ALIVE.scheduleAtFixedRate(
            this::keepAlive, keepAliveNanos, keepAliveNanos, TimeUnit.NANOSECONDS);
  }

  /** The device this stream carries the state of. */
  public String device() {
    return device;
  }

  @Override
  public void write(int b) throws IOException {
    write(new byte[] {(byte) b}, 0, 1);
  }

  @Override
  public synchronized void write(byte[] b, int off, int len) throws IOException {
    int written = 0;
    while (written < len) {
      int frame = Math.min(MAX_FRAME_BYTES, len - written);
      out.writeInt(frame);
      out.write(b, off + written, frame);
      written += frame;
    }
    lastWrite = System.nanoTime();
  }

  @Override
  public synchronized void flush() throws IOException {
    out.flush();
  }

  /** Sends an empty frame if nothing was sent for a third of the idle timeout. */
  private synchronized void keepAlive() {
    if (System.nanoTime() - lastWrite < keepAliveNanos || socket.isClosed()) {
      return;
    }
    try {
      out.writeInt(0);
      out.flush();
      lastWrite = System.nanoTime();
    } catch (IOException e) {
      // The next real write reports the broken connection with its context.
      keepAlive.cancel(false);
    }
  }

  /**
   * After the blob is finished: waits for the receiver to say the target device runs the state.
   * False when the receiver closed the connection without saying so (it failed).
   */
  public boolean awaitAcknowledgement(Duration timeout) throws IOException {
    flush();
    socket.setSoTimeout((int) Math.max(1, Math.min(Integer.MAX_VALUE, timeout.toMillis())));
    try {
      return socket.getInputStream().read() == StreamHandshake.TARGET_RUNNING;
    } catch (SocketTimeoutException e) {
      throw new SocketTimeoutException(
          "the receiver did not confirm device " + device + " within " + timeout);
    }
  }

  /** Closes the connection. */
  @Override
  public void close() throws IOException {
    keepAlive.cancel(false);
    socket.close();
  }
}
