package dev.vfio.agent.tasks;

import dev.vfio.agent.blobs.BlobSummary;
import dev.vfio.agent.blobs.BlobWriter;
import java.io.IOException;
import java.nio.ByteBuffer;

/** A save into a blob on a storage claim: temporary file, fsync, rename. */
final class BlobFileOutput implements StateOutput {
  private final BlobWriter writer;

  BlobFileOutput(BlobWriter writer) {
    this.writer = writer;
  }

  @Override
  public void write(ByteBuffer chunk) throws IOException {
    writer.write(chunk);
  }

  @Override
  public ByteBuffer lend() throws IOException {
    return writer.lend();
  }

  @Override
  public void lentFilled(ByteBuffer lent, int bytes) throws IOException {
    writer.lentFilled(lent);
  }

  @Override
  public BlobSummary commit() throws IOException {
    return writer.commit();
  }

  @Override
  public void abort() throws IOException {
    writer.abort();
  }

  @Override
  public void close() throws IOException {
    writer.close();
  }

  @Override
  public String toString() {
    return writer.temporaryPath().toString();
  }
}
