package dev.vfio.agent.sim;

import java.io.IOException;

/** Bytes that are not one whole, valid simulated device state stream; the message says where. */
public class MalformedStateException extends IOException {
  private static final long serialVersionUID = 1L;

  public MalformedStateException(String message) {
    super(message);
  }
}
