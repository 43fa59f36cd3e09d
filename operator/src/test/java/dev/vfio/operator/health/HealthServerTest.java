package dev.vfio.operator.health;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vfio.api.v1alpha1.Reason;
import dev.vfio.operator.metrics.Ending;
import dev.vfio.operator.metrics.OperatorMetrics;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Map;
import org.junit.jupiter.api.Test;

class HealthServerTest {
  @Test
  void probesAnswerTheirChecksAndMetricsCountOutcomesByReason() throws Exception {
    OperatorMetrics metrics = new OperatorMetrics();
    metrics.ended("VfioSnapshot", new Ending("Failed", Reason.POD_NOT_FOUND, null, null));
    metrics.ended("VfioMigration", new Ending("Succeeded", Reason.SUCCEEDED, 250L, 1024L));

    try (HealthServer server =
        new HealthServer(
            0, Map.of("/healthz", () -> true, "/readyz", () -> false), metrics::scrape)) {
      HttpClient http = HttpClient.newHttpClient();
      assertEquals(200, status(http, server, "/healthz"));
      assertEquals(503, status(http, server, "/readyz"));
      String body =
          http.send(request(server, "/metrics"), HttpResponse.BodyHandlers.ofString()).body();
      assertTrue(
          body.contains(
              "vfio_operations_completed_total{kind=\"VfioSnapshot\",outcome=\"Failed\",reason=\"PodNotFound\"} 1.0"),
          body);
      assertTrue(
          body.contains("vfio_operation_downtime_seconds_count{kind=\"VfioMigration\"} 1"), body);
    }
  }

  private static int status(HttpClient http, HealthServer server, String path) throws Exception {
    return http.send(request(server, path), HttpResponse.BodyHandlers.discarding()).statusCode();
  }

  private static HttpRequest request(HealthServer server, String path) {
    return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path)).build();
  }
}
