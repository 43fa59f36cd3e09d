package dev.vfio.operator.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;

/**
 * The operator's Prometheus metrics. Tags are low-cardinality on purpose — the kind, the outcome
 * and the reason constant, never a resource name — so that a cluster with thousands of snapshots
 * has a handful of series.
 */
public final class OperatorMetrics {
  private final PrometheusMeterRegistry registry =
      new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);

  public PrometheusMeterRegistry registry() {
    return registry;
  }

  /** A snapshot or migration ended: {@code kind} VfioSnapshot or VfioMigration. */
  public void ended(String kind, Ending ending) {
    Counter.builder("vfio_operations_completed")
        .description("Snapshots and migrations that reached a terminal phase")
        .tag("kind", kind)
        .tag("outcome", ending.outcome())
        .tag("reason", ending.reason().wire())
        .register(registry)
        .increment();
    Long downtimeMillis = ending.downtimeMillis();
    Long bytes = ending.bytes();
    if (downtimeMillis != null) {
      Timer.builder("vfio_operation_downtime")
          .description(
              "Time the devices were out of RUNNING (migration: source freeze to target RUNNING)")
          .tag("kind", kind)
          .publishPercentileHistogram()
          .register(registry)
          .record(Duration.ofMillis(downtimeMillis));
    }
    if (bytes != null) {
      Counter.builder("vfio_operation_state_bytes")
          .description("Bytes of device state saved or moved by completed operations")
          .tag("kind", kind)
          .register(registry)
          .increment(bytes);
    }
  }

  /** Prometheus text exposition of every meter. */
  public String scrape() {
    return registry.scrape();
  }
}
