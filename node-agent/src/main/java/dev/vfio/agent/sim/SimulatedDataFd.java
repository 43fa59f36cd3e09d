package dev.vfio.agent.sim;

import dev.vfio.agent.vfio.DataFd;
import dev.vfio.agent.vfio.Errno;
import dev.vfio.agent.vfio.PrecopyInfo;
import dev.vfio.agent.vfio.VfioException;
import java.nio.ByteBuffer;

/**
 * A data_fd of a {@link SimulatedDevice}: read-only for a saving session, write-only for a resuming
 * one, as the kernel opens them. It stays usable only while its session is the device's current
 * one.
 */
final class SimulatedDataFd implements DataFd {
  private final SimulatedDevice device;
  private final SaveSession saving;
  private final StateStreamParser resuming;
  private volatile boolean closed;

  /** Exactly one of {@code saving} and {@code resuming} is set. */
  SimulatedDataFd(SimulatedDevice device, SaveSession saving, StateStreamParser resuming) {
    this.device = device;
    this.saving = saving;
    this.resuming = resuming;
  }

  @Override
  public int read(ByteBuffer dst) throws VfioException {
    requireOpen("read data_fd");
    if (saving == null) {
      throw device.error("read data_fd", Errno.EBADF, "resume data_fd is write-only");
    }
    int n = device.read(saving, dst);
    device.throttle(n);
    return n;
  }

  @Override
  public int write(ByteBuffer src) throws VfioException {
    requireOpen("write data_fd");
    if (resuming == null) {
      throw device.error("write data_fd", Errno.EBADF, "save data_fd is read-only");
    }
    return device.write(resuming, src);
  }

  @Override
  public PrecopyInfo precopyInfo() throws VfioException {
    requireOpen("MIG_GET_PRECOPY_INFO");
    if (saving == null) {
      throw device.error("MIG_GET_PRECOPY_INFO", Errno.ENOTTY, "not a saving data_fd");
    }
    return device.precopyInfo(saving);
  }

  @Override
  public void close() {
    closed = true;
  }

  private void requireOpen(String operation) throws VfioException {
    if (closed) {
      throw device.error(operation, Errno.EBADF, "data_fd closed");
    }
  }
}
