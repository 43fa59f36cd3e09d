package dev.vfio.agent.transport;

import dev.vfio.agent.vfio.ChunkSink;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * A sink that charges the listener's budget for every byte of state before passing it on, so that a
 * small compressed stream cannot decode into more state than the receiver agreed to take. It lends
 * no buffers: the blob decoder writes every chunk, which this counts.
 */
final class ChargedSink implements ChunkSink {
  private final ChunkSink sink;
  private final ByteBudget budget;

  ChargedSink(ChunkSink sink, ByteBudget budget) {
    this.sink = sink;
    this.budget = budget;
  }

  @Override
  public void write(ByteBuffer chunk) throws IOException {
    budget.spendState(chunk.remaining());
    sink.write(chunk);
  }
}
