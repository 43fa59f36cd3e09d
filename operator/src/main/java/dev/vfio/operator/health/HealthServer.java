package dev.vfio.operator.health;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.function.BooleanSupplier;

/** Serves the probe endpoints: each path answers 200 while its check holds, 503 otherwise. */
public final class HealthServer implements AutoCloseable {
  private final HttpServer server;

  public HealthServer(int port, Map<String, BooleanSupplier> checks) throws IOException {
    server = HttpServer.create(new InetSocketAddress(port), 0);
    checks.forEach((path, check) -> server.createContext(path, exchange -> {
      boolean ok = check.getAsBoolean();
      byte[] body = (ok ? "ok\n" : "not ok\n").getBytes(StandardCharsets.UTF_8);
      exchange.sendResponseHeaders(ok ? 200 : 503, body.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(body);
      }
    }));
    server.start();
  }

  public int port() {
    return server.getAddress().getPort();
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
