package dev.vfio.agent.vfio;

import java.io.IOException;

/**
 * A failed VFIO operation on one device: the errno the kernel (or the simulated device) returned,
 * and the arc or call that failed, so that a log line or condition message says exactly what went
 * wrong on which device.
 */
public class VfioException extends IOException {
  private static final long serialVersionUID = 1L;
  private final String device;
  private final int errno;
  private final String operation;
  private final String detail;

  public VfioException(String device, String operation, int errno, String detail) {
    super(
        device
            + ": "
            + operation
            + " failed: "
            + Errno.of(errno)
            + " (errno "
            + errno
            + ")"
            + (detail == null || detail.isEmpty() ? "" : ": " + detail));
    this.device = device;
    this.errno = errno;
    this.operation = operation;
    this.detail = detail == null ? "" : detail;
  }

  public VfioException(String device, String operation, Errno errno, String detail) {
    this(device, operation, errno.value(), detail);
  }

  public String device() {
    return device;
  }

  public int errno() {
    return errno;
  }

  public Errno error() {
    return Errno.of(errno);
  }

  public String operation() {
    return operation;
  }

  /** What the failing side said beyond the errno; empty if nothing. */
  public String detail() {
    return detail;
  }
}
