package dev.vfio.agent.blobs;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;

/** A file channel on a volume that fills up after {@code room} bytes, or fails to fsync. */
final class FullDiskChannel extends FileChannel {
  private final FileChannel file;
  private final long room;
  private final boolean fsyncFails;
  private long written;

  FullDiskChannel(FileChannel file, long room, boolean fsyncFails) {
    this.file = file;
    this.room = room;
    this.fsyncFails = fsyncFails;
  }

  private void requireRoom() throws IOException {
    if (written >= room) {
      throw new IOException("No space left on device");
    }
  }

  @Override
  public int write(ByteBuffer src) throws IOException {
    requireRoom();
    int n = file.write(src);
    written += n;
    return n;
  }

  @Override
  public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
    requireRoom();
    long n = file.write(srcs, offset, length);
    written += n;
    return n;
  }

  @Override
  public int write(ByteBuffer src, long position) throws IOException {
    requireRoom();
    int n = file.write(src, position);
    written += n;
    return n;
  }

  @Override
  public void force(boolean metaData) throws IOException {
    if (fsyncFails) {
      throw new IOException("Input/output error");
    }
    file.force(metaData);
  }

  @Override
  public int read(ByteBuffer dst) throws IOException {
    return file.read(dst);
  }

  @Override
  public long read(ByteBuffer[] dsts, int offset, int length) throws IOException {
    return file.read(dsts, offset, length);
  }

  @Override
  public int read(ByteBuffer dst, long position) throws IOException {
    return file.read(dst, position);
  }

  @Override
  public long position() throws IOException {
    return file.position();
  }

  @Override
  public FileChannel position(long newPosition) throws IOException {
    file.position(newPosition);
    return this;
  }

  @Override
  public long size() throws IOException {
    return file.size();
  }

  @Override
  public FileChannel truncate(long size) throws IOException {
    file.truncate(size);
    return this;
  }

  @Override
  public long transferTo(long position, long count, WritableByteChannel target) throws IOException {
    return file.transferTo(position, count, target);
  }

  @Override
  public long transferFrom(ReadableByteChannel src, long position, long count) throws IOException {
    requireRoom();
    return file.transferFrom(src, position, count);
  }

  @Override
  public MappedByteBuffer map(MapMode mode, long position, long size) throws IOException {
    return file.map(mode, position, size);
  }

  @Override
  public FileLock lock(long position, long size, boolean shared) throws IOException {
    return file.lock(position, size, shared);
  }

  @Override
  public FileLock tryLock(long position, long size, boolean shared) throws IOException {
    return file.tryLock(position, size, shared);
  }

  @Override
  protected void implCloseChannel() throws IOException {
    file.close();
  }
}
