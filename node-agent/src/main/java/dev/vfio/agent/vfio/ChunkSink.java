package dev.vfio.agent.vfio;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Where a save stream goes, one filled buffer at a time. The buffer is reused for the next chunk
 * as soon as {@link #accept} returns, so a sink must consume or copy it before returning.
 */
@FunctionalInterface
public interface ChunkSink {
  /** {@code chunk} holds the bytes from its position to its limit. */
  void accept(ByteBuffer chunk) throws IOException;
}
