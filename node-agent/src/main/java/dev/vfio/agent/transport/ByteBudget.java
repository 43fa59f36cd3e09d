package dev.vfio.agent.transport;

import java.io.IOException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The bytes one listener accepts across all its streams: a sender that holds a valid token still
 * cannot make the receiver read without end.
 */
final class ByteBudget {
  private final long limit;
  private final AtomicLong spent = new AtomicLong();

  ByteBudget(long limit) {
    if (limit <= 0) {
      throw new IllegalArgumentException("byte budget must be positive, not " + limit);
    }
    this.limit = limit;
  }

  /** Counts {@code bytes} received; once the total passes the limit, every call fails. */
  void spend(int bytes) throws IOException {
    if (spent.addAndGet(bytes) > limit) {
      throw new IOException("byte budget of " + limit + " bytes exceeded");
    }
  }
}
