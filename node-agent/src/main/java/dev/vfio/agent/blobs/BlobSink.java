package dev.vfio.agent.blobs;

import java.io.IOException;
import java.nio.ByteBuffer;

/** Where {@link BlobReader#copyTo} delivers the device state, one verified chunk at a time. */
@FunctionalInterface
public interface BlobSink {
  /**
   * Consumes every remaining byte of {@code chunk}. The buffer is reused for the next chunk once
   * this returns, so a sink must not keep it.
   */
  void accept(ByteBuffer chunk) throws IOException;
}
