package dev.vfio.agent.vfio;

import com.sun.jna.LastErrorException;
import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import java.nio.ByteBuffer;

/**
 * A kernel migration data_fd. It is a stream ({@code stream_open}): positional I/O fails with
 * ESPIPE, so this calls libc {@code read}/{@code write}, never {@code pread} or a {@link
 * java.nio.channels.FileChannel}. Direct buffers are handed to the kernel in place; a heap buffer
 * goes through a bounce buffer of at most {@link #BOUNCE_BYTES}, so a transfer from one may be
 * shorter than the buffer's remaining bytes, as any stream transfer may be.
 */
final class KernelDataFd implements DataFd {
  private static final int BOUNCE_BYTES = 1 << 20;

  private final String address;
  private final int fd;
  private Memory bounce;
  private boolean closed;

  KernelDataFd(String address, int fd) {
    this.address = address;
    this.fd = fd;
  }

  @Override
  public int read(ByteBuffer dst) throws VfioException {
    requireOpen("read data_fd");
    if (!dst.hasRemaining()) {
      return 0;
    }
    if (dst.isDirect()) {
      int n = read(address(dst), dst.remaining());
      dst.position(dst.position() + n);
      return n;
    }
    Memory via = bounce();
    int n = read(via, (int) Math.min(via.size(), dst.remaining()));
    if (dst.hasArray()) {
      // A chunk bound for the network is on the heap: one copy out of native memory.
      via.read(0, dst.array(), dst.arrayOffset() + dst.position(), n);
      dst.position(dst.position() + n);
    } else {
      dst.put(via.getByteArray(0, n));
    }
    return n;
  }

  @Override
  public int write(ByteBuffer src) throws VfioException {
    requireOpen("write data_fd");
    if (!src.hasRemaining()) {
      return 0;
    }
    if (src.isDirect()) {
      int n = write(address(src), src.remaining());
      src.position(src.position() + n);
      return n;
    }
    Memory via = bounce();
    int length = (int) Math.min(via.size(), src.remaining());
    if (src.hasArray()) {
      // A chunk that arrived over the network is on the heap: one copy into native memory.
      via.write(0, src.array(), src.arrayOffset() + src.position(), length);
    } else {
      byte[] bytes = new byte[length];
      src.get(src.position(), bytes);
      via.write(0, bytes, 0, length);
    }
    int n = write(via, length);
    src.position(src.position() + n);
    return n;
  }

  @Override
  public PrecopyInfo precopyInfo() throws VfioException {
    requireOpen("MIG_GET_PRECOPY_INFO");
    Memory info = VfioAbi.precopyInfo();
    try {
      Libc.ioctl(fd, VfioAbi.MIG_GET_PRECOPY_INFO, info);
    } catch (LastErrorException e) {
      throw new VfioException(
          address,
          "MIG_GET_PRECOPY_INFO",
          e.getErrorCode(),
          e.getErrorCode() == Errno.ENOTTY.value()
              ? "this kernel has no precopy info (before 6.2)"
              : "");
    }
    return VfioAbi.precopyInfo(info);
  }

  /** Closes the fd once; the kernel keeps the session's other fds (a workload's dup) working. */
  @Override
  public void close() {
    if (!closed) {
      closed = true;
      Libc.closeQuietly(fd);
    }
  }

  private int read(Pointer at, int count) throws VfioException {
    while (true) {
      try {
        return (int) Libc.read(fd, at, count);
      } catch (LastErrorException e) {
        if (e.getErrorCode() != Libc.EINTR) {
          throw new VfioException(address, "read data_fd", e.getErrorCode(), "");
        }
      }
    }
  }

  private int write(Pointer at, int count) throws VfioException {
    while (true) {
      try {
        return (int) Libc.write(fd, at, count);
      } catch (LastErrorException e) {
        if (e.getErrorCode() != Libc.EINTR) {
          throw new VfioException(address, "write data_fd", e.getErrorCode(), "");
        }
      }
    }
  }

  private static Pointer address(ByteBuffer direct) {
    return Native.getDirectBufferPointer(direct).share(direct.position());
  }

  private Memory bounce() {
    if (bounce == null) {
      bounce = new Memory(BOUNCE_BYTES);
    }
    return bounce;
  }

  private void requireOpen(String operation) throws VfioException {
    if (closed) {
      throw new VfioException(address, operation, Errno.EBADF, "data_fd closed");
    }
  }
}
