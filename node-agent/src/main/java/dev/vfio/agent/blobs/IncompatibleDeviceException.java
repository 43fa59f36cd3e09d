package dev.vfio.agent.blobs;

import java.io.IOException;

/** A blob holds state saved from a device that the target device cannot load. */
public class IncompatibleDeviceException extends IOException {
  public IncompatibleDeviceException(String message) {
    super(message);
  }
}
