package dev.vfio.agent.sim;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.Objects;

/**
 * What a simulated device holds: content born on the device at {@code origin}, at {@code epoch},
 * {@code imageBytes} long. Everything a device saves is derived from these three values, so a saved
 * stream can be checked without the device: {@link #read} parses and verifies a whole stream and
 * returns the state it carries, which equals {@link SimulatedDevice#content()} of the device that
 * saved it, and of any device that loaded it.
 *
 * <p>Content is not tied to the device holding it: a stream saved on one device and loaded into a
 * compatible one keeps its origin and epoch there.
 */
public record SimulatedState(String origin, long epoch, long imageBytes) {
  public SimulatedState {
    Objects.requireNonNull(origin, "origin");
    if (imageBytes < 0) {
      throw new IllegalArgumentException("imageBytes must not be negative: " + imageBytes);
    }
  }

  /** The content a device has after power-on or a reset. */
  public static SimulatedState powerOn(String address, long imageBytes) {
    return new SimulatedState(address, 0, imageBytes);
  }

  /** The same content after the device ran for a while. */
  public SimulatedState ranOnce() {
    return new SimulatedState(origin, epoch + 1, imageBytes);
  }

  /** The seed of the content bytes, also written into the stream header. */
  public long seed() {
    return StateStreamFormat.seedOf(origin, epoch);
  }

  /** Length of a stream saved in one STOP_COPY session (no PRE_COPY rounds). */
  public long streamBytes() {
    return StateStreamFormat.headerBytes(origin) + imageBytes + StateStreamFormat.END_BYTES;
  }

  /**
   * Reads {@code in} to its end and returns the state it carries.
   *
   * @throws MalformedStateException if the bytes are not exactly one well-formed stream: bad
   *     header, content that does not match the header, truncation, or trailing bytes
   */
  public static SimulatedState read(InputStream in) throws IOException {
    StateStreamParser parser = new StateStreamParser();
    byte[] chunk = new byte[64 * 1024];
    for (int n = in.read(chunk); n >= 0; n = in.read(chunk)) {
      parser.accept(ByteBuffer.wrap(chunk, 0, n));
    }
    return parser.finish();
  }

  /**
   * Checks that {@code in} is a whole, valid state stream whose content was born on the device at
   * {@code address}, and returns its epoch.
   */
  public static long verify(String address, InputStream in) throws IOException {
    SimulatedState state = read(in);
    if (!state.origin().equals(address)) {
      throw new MalformedStateException(
          "stream holds content of " + state.origin() + ", not of " + address);
    }
    return state.epoch();
  }
}
