package dev.vfio.agent.transport;

import java.io.IOException;
import java.io.InputStream;

/**
 * One accepted stream: the state of {@code device}, as one blob, on a connection whose peer
 * presented a certificate from the transport CA and the task's token. Read it with {@code
 * BlobStreamReader}. Nothing goes back to the sender: whether the target runs the state is the
 * operator's decision (the switchover), not the streams'. Closing it closes the connection.
 */
public final class IncomingStream implements AutoCloseable {
  private final String device;
  private final InputStream data;

  IncomingStream(String device, InputStream data) {
    this.device = device;
    this.data = data;
  }

  /** The device address the sender named in its handshake. */
  public String device() {
    return device;
  }

  /**
   * The blob; a read fails once the listener's byte budget is spent or when the sender sends
   * nothing for the idle timeout.
   */
  public InputStream data() {
    return data;
  }

  @Override
  public void close() throws IOException {
    data.close();
  }
}
