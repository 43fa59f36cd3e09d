package dev.vfio.agent.metrics;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vfio.agent.devices.DeviceDetails;
import dev.vfio.agent.health.AgentEndpoints;
import dev.vfio.agent.inventory.InventoryDevice;
import dev.vfio.agent.vfio.DeviceIdentity;
import dev.vfio.agent.vfio.MigrationFlags;
import dev.vfio.agent.vfio.MigrationProtocol;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class AgentMetricsTest {
  @Test
  void endedTasksAndTheInventoryAreServedInThePrometheusFormat() throws Exception {
    AgentMetrics metrics = new AgentMetrics();
    metrics.taskEnded("Save", "Succeeded", Duration.ofSeconds(2), 64L << 20, 120L);
    metrics.inventory(
        List.of(
            new InventoryDevice(
                new DeviceIdentity("0000:3b:00.0", "vfio-pci", "10de", "2330", "12"),
                Optional.empty(),
                DeviceDetails.UNKNOWN,
                new MigrationFlags(MigrationFlags.STOP_COPY | MigrationFlags.PRE_COPY),
                null,
                null,
                MigrationProtocol.V2),
            new InventoryDevice(
                new DeviceIdentity("0000:5e:00.0", "vfio-pci", "8086", "1592", "13"),
                Optional.empty(),
                DeviceDetails.UNKNOWN,
                MigrationFlags.NONE,
                null,
                null,
                MigrationProtocol.NONE)));

    try (AgentEndpoints endpoints =
        new AgentEndpoints(0, () -> true, () -> false, metrics::scrape)) {
      HttpClient http = HttpClient.newHttpClient();
      String body =
          http.send(
                  HttpRequest.newBuilder(
                          URI.create("http://127.0.0.1:" + endpoints.port() + "/metrics"))
                      .build(),
                  HttpResponse.BodyHandlers.ofString())
              .body();
      int ready =
          http.send(
                  HttpRequest.newBuilder(
                          URI.create("http://127.0.0.1:" + endpoints.port() + "/readyz"))
                      .build(),
                  HttpResponse.BodyHandlers.discarding())
              .statusCode();

      assertTrue(
          body.contains("vfio_agent_tasks_total{operation=\"Save\",outcome=\"Succeeded\"} 1.0"),
          body);
      assertTrue(
          body.contains("vfio_agent_state_bytes_total{operation=\"Save\"} 6.7108864E7"), body);
      assertTrue(body.contains("vfio_agent_devices{capability=\"PRE_COPY\"} 1.0"), body);
      assertTrue(body.contains("vfio_agent_devices{capability=\"none\"} 1.0"), body);
      assertTrue(body.contains("vfio_agent_downtime_seconds_count{operation=\"Save\"} 1"), body);
      assertTrue(ready == 503, "not ready while the last node report failed");
    }
  }
}
