package dev.vfio.agent.sim;

import dev.vfio.agent.vfio.DataFd;
import dev.vfio.agent.vfio.Errno;
import dev.vfio.agent.vfio.VfioException;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;

/** Raw data_fd loops for tests that talk to a device below the state machine. */
final class DataFds {
  private DataFds() {}

  /** STOP_COPY: everything until read() returns 0. */
  static byte[] readToEnd(DataFd fd) throws VfioException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteBuffer buffer = ByteBuffer.allocate(64 * 1024);
    while (true) {
      buffer.clear();
      int n = fd.read(buffer);
      if (n == 0) {
        return out.toByteArray();
      }
      out.write(buffer.array(), 0, n);
    }
  }

  /** PRE_COPY: everything until the temporary end, whichever way the device signals it. */
  static byte[] readToTemporaryEnd(DataFd fd) throws VfioException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteBuffer buffer = ByteBuffer.allocate(64 * 1024);
    while (true) {
      buffer.clear();
      int n;
      try {
        n = fd.read(buffer);
      } catch (VfioException e) {
        if (e.error() == Errno.ENOMSG) {
          return out.toByteArray();
        }
        throw e;
      }
      if (n == 0) {
        return out.toByteArray();
      }
      out.write(buffer.array(), 0, n);
    }
  }

  static void writeAll(DataFd fd, byte[] bytes, int chunk) throws VfioException {
    for (int at = 0; at < bytes.length; ) {
      ByteBuffer piece = ByteBuffer.wrap(bytes, at, Math.min(chunk, bytes.length - at));
      while (piece.hasRemaining()) {
        at += fd.write(piece);
      }
    }
  }

  /** A valid stream carrying {@code state}, as a device holding it would save it. */
  static byte[] streamOf(SimulatedState state) {
    SaveSession session = new SaveSession(state, 0, true);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteBuffer buffer = ByteBuffer.allocate(64 * 1024);
    while (true) {
      buffer.clear();
      int n = session.produce(buffer, buffer.remaining());
      if (n == 0) {
        return out.toByteArray();
      }
      out.write(buffer.array(), 0, n);
    }
  }

  static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] part : parts) {
      out.write(part, 0, part.length);
    }
    return out.toByteArray();
  }
}
