package dev.vfio.agent.transport;

import java.io.IOException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The bytes one listener accepts across all its streams: a sender that holds a valid token still
 * cannot make the receiver read, nor write into its devices, without end. Two counts against one
 * limit: what arrives on the wire (frame headers and keep-alives included), and the state it
 * decodes to, which is what reaches a device — compressed, a few wire bytes can decode to a great
 * deal of state.
 */
final class ByteBudget {
  private final long limit;
  private final AtomicLong received = new AtomicLong();
  private final AtomicLong state = new AtomicLong();

  ByteBudget(long limit) {
    if (limit <= 0) {
      throw new IllegalArgumentException("byte budget must be positive, not " + limit);
    }
    this.limit = limit;
  }

  /** Counts {@code bytes} received; once the total passes the limit, every call fails. */
  void spendReceived(long bytes) throws IOException {
    if (received.addAndGet(bytes) > limit) {
      throw new IOException("byte budget of " + limit + " bytes exceeded");
    }
  }

  /** Counts {@code bytes} of decoded state; once the total passes the limit, every call fails. */
  void spendState(long bytes) throws IOException {
    if (state.addAndGet(bytes) > limit) {
      throw new IOException(
          "byte budget of " + limit + " bytes exceeded by the decompressed state");
    }
  }
}
