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
import java.util.concurrent.locks.ReentrantLock;

/**
 * A stream the receiver accepted for one device: write one blob into it with {@code
 * BlobStreamWriter}, then close it. Closing without finishing the blob is how a sender that failed
 * tells the receiver: it finds the blob truncated.
 *
 * <p>Bytes travel in frames ({@code u32 length} + bytes) so that, while this device waits — for the
 * other devices of the pod to finish PRE_COPY, for the pod to freeze — the stream sends empty
 * keep-alive frames and the receiver's idle timeout only fires on a sender that is really gone.
 *
 * <p>The other way round, a receiver that stops reading must not hold the source frozen for ever: a
 * write that has not returned within the idle timeout (TCP's buffers full, nothing taken) closes
 * the connection, and the write fails saying so. The keep-alive timer watches for that, and never
 * waits for a writer itself, so that one stalled stream cannot delay another's keep-alives.
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

  /** The plain socket under the TLS one: closing it unblocks a stalled write. */
  private final Socket transport;

  private final DataOutputStream out;
  private final String device;
  private final Duration idleTimeout;
  private final long keepAliveNanos;
  private final ScheduledFuture<?> keepAlive;
  private final ReentrantLock lock = new ReentrantLock();
  private long lastWrite = System.nanoTime();

  /** When the write or flush in progress began; 0 when none is. */
  private volatile long writingSince;

  private volatile boolean stalled;

  OutgoingStream(Socket socket, Socket transport, String device, Duration idleTimeout)
      throws IOException {
    this.socket = socket;
    this.transport = transport;
    this.out = new DataOutputStream(new BufferedOutputStream(socket.getOutputStream(), 64 << 10));
    this.device = device;
    this.idleTimeout = idleTimeout;
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
  public void write(byte[] b, int off, int len) throws IOException {
    lock.lock();
    writingSince = System.nanoTime();
    try {
      int written = 0;
      while (written < len) {
        int frame = Math.min(MAX_FRAME_BYTES, len - written);
        out.writeInt(frame);
        out.write(b, off + written, frame);
        written += frame;
      }
      lastWrite = System.nanoTime();
    } catch (IOException e) {
      throw stalledOr(e);
    } finally {
      writingSince = 0;
      lock.unlock();
    }
  }

  @Override
  public void flush() throws IOException {
    lock.lock();
    writingSince = System.nanoTime();
    try {
      out.flush();
    } catch (IOException e) {
      throw stalledOr(e);
    } finally {
      writingSince = 0;
      lock.unlock();
    }
  }

  /**
   * Cuts a connection whose write has waited longer than the idle timeout; otherwise sends an empty
   * frame if nothing was sent for a third of the idle timeout.
   */
  private void keepAlive() {
    long since = writingSince;
    if (since != 0 && System.nanoTime() - since > idleTimeout.toNanos()) {
      stalled = true;
      keepAlive.cancel(false);
      try {
        transport.close();
      } catch (IOException e) {
        // Closed either way; the blocked write fails and says why.
      }
      return;
    }
    if (!lock.tryLock()) {
      return;
    }
    try {
      if (System.nanoTime() - lastWrite < keepAliveNanos || socket.isClosed()) {
        return;
      }
      out.writeInt(0);
      out.flush();
      lastWrite = System.nanoTime();
    } catch (IOException e) {
      // The next real write reports the broken connection with its context.
      keepAlive.cancel(false);
    } finally {
      lock.unlock();
    }
  }

  private IOException stalledOr(IOException e) {
    if (!stalled) {
      return e;
    }
    SocketTimeoutException timedOut =
        new SocketTimeoutException(
            "the receiver took no data of device "
                + device
                + " within the idle timeout of "
                + idleTimeout
                + "; the connection was closed");
    timedOut.initCause(e);
    return timedOut;
  }

  /** Closes the connection. */
  @Override
  public void close() throws IOException {
    keepAlive.cancel(false);
    socket.close();
  }
}
