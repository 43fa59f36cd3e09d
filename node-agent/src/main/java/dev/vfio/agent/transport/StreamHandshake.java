package dev.vfio.agent.transport;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ProtocolException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Objects;

/**
 * The first bytes of a stream connection, sent inside TLS once both certificates were checked. The
 * sender asks, all integers unsigned big-endian:
 *
 * <pre>
 *   8  magic, ASCII "VFIOXFER"
 *   2  u16 protocol version, 1
 *   2  u16 token length T, 1..256
 *   T  token, UTF-8
 *   2  u16 device length D, 1..256
 *   D  device address, UTF-8, no control characters
 * </pre>
 *
 * and the receiver answers one byte, {@link #ACCEPTED} or {@link #REFUSED}; after {@link #ACCEPTED}
 * the sender's bytes are one blob ({@code BlobStreamWriter}). Lengths are bounded so that a peer
 * cannot make the receiver allocate more than a few hundred bytes before its token was checked.
 */
final class StreamHandshake {
  static final byte[] MAGIC = "VFIOXFER".getBytes(StandardCharsets.US_ASCII);
  static final int VERSION = 1;
  static final int MAX_TOKEN_BYTES = 256;
  static final int MAX_DEVICE_BYTES = 256;
  static final int ACCEPTED = 0;
  static final int REFUSED = 1;

  /**
   * What a sender asks for.
   *
   * @param token the task's token as sent, compared by the receiver in constant time
   * @param device the device whose state follows
   */
  record Request(byte[] token, String device) {}

  private StreamHandshake() {}

  /** Refuses a token no handshake can carry. */
  static void requireToken(String token) {
    Objects.requireNonNull(token, "token");
    requireLength("token", token.getBytes(StandardCharsets.UTF_8).length, MAX_TOKEN_BYTES);
  }

  /** Refuses a token or device the receiver would refuse, before anything is sent. */
  static byte[] encodeRequest(String token, String device) {
    requireToken(token);
    Objects.requireNonNull(device, "device");
    byte[] tokenBytes = token.getBytes(StandardCharsets.UTF_8);
    byte[] deviceBytes = device.getBytes(StandardCharsets.UTF_8);
    requireLength("device", deviceBytes.length, MAX_DEVICE_BYTES);
    requirePrintable(device);
    ByteBuffer request =
        ByteBuffer.allocate(
            MAGIC.length + 3 * Short.BYTES + tokenBytes.length + deviceBytes.length);
    request
        .put(MAGIC)
        .putShort((short) VERSION)
        .putShort((short) tokenBytes.length)
        .put(tokenBytes)
        .putShort((short) deviceBytes.length)
        .put(deviceBytes);
    return request.array();
  }

  static void writeRequest(OutputStream out, String token, String device) throws IOException {
    out.write(encodeRequest(token, device));
    out.flush();
  }

  /**
   * Reads exactly the request and nothing after it.
   *
   * @throws ProtocolException if it is not a request of this version or breaks a bound
   */
  static Request readRequest(InputStream in) throws IOException {
    DataInputStream data = new DataInputStream(in);
    byte[] magic = new byte[MAGIC.length];
    data.readFully(magic);
    if (!Arrays.equals(magic, MAGIC)) {
      throw new ProtocolException("not a VFIO state stream: bad magic");
    }
    int version = data.readUnsignedShort();
    if (version != VERSION) {
      throw new ProtocolException(
          "stream protocol version " + version + "; this agent speaks " + VERSION);
    }
    byte[] token = readField(data, "token", MAX_TOKEN_BYTES);
    byte[] deviceBytes = readField(data, "device", MAX_DEVICE_BYTES);
    String device;
    try {
      device =
          StandardCharsets.UTF_8
              .newDecoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT)
              .decode(ByteBuffer.wrap(deviceBytes))
              .toString();
    } catch (CharacterCodingException e) {
      throw new ProtocolException("device is not UTF-8");
    }
    try {
      requirePrintable(device);
    } catch (IllegalArgumentException e) {
      throw new ProtocolException(e.getMessage());
    }
    return new Request(token, device);
  }

  static void writeAnswer(OutputStream out, int answer) throws IOException {
    out.write(answer);
    out.flush();
  }

  /**
   * The receiver's answer.
   *
   * @throws EOFException if the receiver closed the connection instead of answering
   */
  static int readAnswer(InputStream in) throws IOException {
    int answer = in.read();
    if (answer < 0) {
      throw new EOFException("the receiver closed the connection without answering");
    }
    return answer;
  }

  private static byte[] readField(DataInputStream data, String name, int max) throws IOException {
    int length = data.readUnsignedShort();
    if (length == 0 || length > max) {
      throw new ProtocolException(name + " length " + length + " is outside 1.." + max);
    }
    byte[] field = new byte[length];
    data.readFully(field);
    return field;
  }

  private static void requireLength(String name, int length, int max) {
    if (length == 0 || length > max) {
      throw new IllegalArgumentException(
          name + " is " + length + " bytes of UTF-8; the stream " + "handshake carries 1.." + max);
    }
  }

  /** A device name goes into logs and messages: no control characters to forge lines with. */
  private static void requirePrintable(String device) {
    if (device.chars().anyMatch(Character::isISOControl)) {
      throw new IllegalArgumentException("device contains control characters");
    }
  }
}
