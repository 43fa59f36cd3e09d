package dev.vfio.agent.devices;

import java.io.IOException;

/**
 * What was named is not a VFIO device this node can migrate: no such device, a device bound to
 * another driver, a path or fd that is not VFIO. The message names what was asked for and what was
 * found instead; nothing was opened or changed.
 */
public class NotVfioDeviceException extends IOException {
  private static final long serialVersionUID = 1L;

  public NotVfioDeviceException(String message) {
    super(message);
  }
}
