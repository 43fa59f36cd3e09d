package dev.vfio.agent.transport;

import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;

/**
 * A stream the receiver accepted for one device: write one blob into it with
 * {@code BlobStreamWriter}, then close it. Closing without finishing the blob is how a sender
 * that failed tells the receiver: it finds the blob truncated.
 */
public final class OutgoingStream extends OutputStream {
  private final Socket socket;
  private final OutputStream out;
  private final String device;

  OutgoingStream(Socket socket, String device) throws IOException {
    this.socket = socket;
    this.out = socket.getOutputStream();
    this.device = device;
  }

  /** The device this stream carries the state of. */
  public String device() {
    return device;
  }

  @Override
  public void write(int b) throws IOException {
    out.write(b);
  }

  @Override
  public void write(byte[] b, int off, int len) throws IOException {
    out.write(b, off, len);
  }

  @Override
  public void flush() throws IOException {
    out.flush();
  }

  /**
   * After the blob is finished: waits for the receiver to say the target device runs the state.
   * False when the receiver closed the connection without saying so (it failed).
   */
  public boolean awaitAcknowledgement(java.time.Duration timeout) throws IOException {
    out.flush();
    socket.setSoTimeout((int) Math.max(1, Math.min(Integer.MAX_VALUE, timeout.toMillis())));
    try {
      int answer = socket.getInputStream().read();
      return answer == StreamHandshake.TARGET_RUNNING;
    } catch (java.net.SocketTimeoutException e) {
      throw new java.net.SocketTimeoutException("the receiver did not confirm device " + device
          + " within " + timeout);
    }
  }

  /** Closes the connection. */
  @Override
  public void close() throws IOException {
    socket.close();
  }
}
