package dev.vfio.agent.transport;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * A TCP relay between one sender and a listener that cuts the connection after a number of bytes
 * from the sender, as a failing network or a dying node would: the TLS session ends without a
 * close_notify, in the middle of a record.
 */
final class CuttingRelay implements AutoCloseable {
  private final ServerSocket server;
  private final int targetPort;
  private final long cutAfter;
  private final boolean reset;
  private final List<Socket> sockets = new CopyOnWriteArrayList<>();
  private final ExecutorService pumps = Executors.newCachedThreadPool();

  /**
   * @param reset whether the cut is a TCP reset rather than an orderly FIN
   */
  CuttingRelay(int targetPort, long cutAfter, boolean reset) throws IOException {
    this.server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
    this.targetPort = targetPort;
    this.cutAfter = cutAfter;
    this.reset = reset;
    pumps.submit(this::relayOne);
  }

  int port() {
    return server.getLocalPort();
  }

  @Override
  public void close() throws IOException {
    server.close();
    cut();
    pumps.shutdownNow();
    try {
      pumps.awaitTermination(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private Void relayOne() throws IOException {
    Socket sender = server.accept();
    Socket receiver = new Socket(InetAddress.getLoopbackAddress(), targetPort);
    sockets.add(sender);
    sockets.add(receiver);
    pumps.submit(() -> pump(receiver.getInputStream(), sender.getOutputStream(), Long.MAX_VALUE));
    pumps.submit(() -> pump(sender.getInputStream(), receiver.getOutputStream(), cutAfter));
    return null;
  }

  private Void pump(InputStream in, OutputStream out, long limit) throws IOException {
    byte[] buffer = new byte[64 * 1024];
    long forwarded = 0;
    try {
      int n;
      while ((n = in.read(buffer)) > 0) {
        int allowed = (int) Math.min(n, limit - forwarded);
        out.write(buffer, 0, allowed);
        forwarded += allowed;
        if (forwarded >= limit) {
          break;
        }
      }
    } finally {
      cut();
    }
    return null;
  }

  private void cut() {
    for (Socket socket : sockets) {
      try {
        if (reset) {
          socket.setSoLinger(true, 0);
        }
        socket.close();
      } catch (IOException e) {
        // Closed by the other pump already.
      }
    }
  }
}
