package dev.vfio.agent.transport;

import dev.vfio.agent.vfio.ChunkSink;
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
  private final ByteBudget budget;

  IncomingStream(String device, InputStream data, ByteBudget budget) {
    this.device = device;
    this.data = data;
    this.budget = budget;
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

  /**
   * {@code sink}, charging the listener's budget for the decoded state that reaches it: what the
   * blob decoder writes into a device, not what the wire carried.
   */
  public ChunkSink charged(ChunkSink sink) {
    return new ChargedSink(sink, budget);
  }

  @Override
  public void close() throws IOException {
    data.close();
  }
}
