package dev.vfio.agent.transport;

import java.io.IOException;
import java.io.InputStream;

/**
 * One accepted stream: the state of {@code device}, as one blob, on a connection whose peer
 * presented a certificate from the transport CA and the task's token. Read it with
 * {@code BlobStreamReader}; closing it closes the connection.
 *
 * @param device the device address the sender named in its handshake
 * @param data the blob; a read fails once the listener's byte budget is spent or when the sender
 *     sends nothing for the idle timeout
 */
public record IncomingStream(String device, InputStream data) implements AutoCloseable {
  @Override
  public void close() throws IOException {
    data.close();
  }
}
