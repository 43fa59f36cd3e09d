package dev.vfio.agent.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The framing a receiver reads after the handshake, on a plain loopback connection (TLS changes
 * nothing here): keep-alives are skipped, but neither for free nor without end.
 */
class IncomingDataTest {
  private static final Duration IDLE = Duration.ofSeconds(30);
  private ServerSocket server;
  private Socket sender;
  private Socket receiver;

  @BeforeEach
  void connect() throws IOException {
    server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
    sender = new Socket(InetAddress.getLoopbackAddress(), server.getLocalPort());
    receiver = server.accept();
    receiver.setSoTimeout((int) IDLE.toMillis());
  }

  @AfterEach
  void close() throws IOException {
    sender.close();
    receiver.close();
    server.close();
  }

  @Test
  void keepAlivesBetweenFramesAreSkipped() throws IOException {
    DataOutputStream out = new DataOutputStream(sender.getOutputStream());
    out.writeInt(0);
    out.writeInt(0);
    out.writeInt(1);
    out.write(42);
    out.flush();
    sender.shutdownOutput();

    IncomingData data = new IncomingData(receiver, new ByteBudget(1 << 20), IDLE, () -> {});

    assertEquals(42, data.read());
    assertEquals(-1, data.read());
  }

  @Test
  void aSenderOfNothingButKeepAlivesIsCutAfterTheirBound() throws IOException {
    DataOutputStream out = new DataOutputStream(sender.getOutputStream());
    for (int i = 0; i <= IncomingData.MAX_KEEP_ALIVES; i++) {
      out.writeInt(0);
    }
    out.flush();
    // Without the bound the read would skip them all and report a clean end.
    sender.shutdownOutput();

    IncomingData data = new IncomingData(receiver, new ByteBudget(1 << 20), IDLE, () -> {});

    IOException cut = assertThrows(IOException.class, data::read);
    assertTrue(cut.getMessage().contains("keep-alives in a row without state"), cut.getMessage());
  }

  @Test
  void keepAlivesAreChargedToTheBudget() throws IOException {
    DataOutputStream out = new DataOutputStream(sender.getOutputStream());
    for (int i = 0; i < 3; i++) {
      out.writeInt(0);
    }
    out.flush();
    sender.shutdownOutput();

    IncomingData data = new IncomingData(receiver, new ByteBudget(8), IDLE, () -> {});

    IOException exceeded = assertThrows(IOException.class, data::read);
    assertEquals("byte budget of 8 bytes exceeded", exceeded.getMessage());
  }
}
