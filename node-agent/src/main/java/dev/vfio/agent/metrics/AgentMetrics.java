package dev.vfio.agent.metrics;

import dev.vfio.agent.inventory.InventoryDevice;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The agent's Prometheus metrics: tasks by operation and outcome, bytes moved, throughput,
 * durations, downtime, and the node's devices by migration capability. Tags never carry a resource
 * name, so the series stay few however many tasks run.
 */
public final class AgentMetrics {
  private static final List<String> CAPABILITIES = List.of("STOP_COPY", "P2P", "PRE_COPY", "none");
  private final PrometheusMeterRegistry registry =
      new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final Map<String, AtomicInteger> devices = new ConcurrentHashMap<>();

  public AgentMetrics() {
    for (String capability : CAPABILITIES) {
      AtomicInteger count = devices.computeIfAbsent(capability, c -> new AtomicInteger());
      Gauge.builder("vfio_agent_devices", count, AtomicInteger::get)
          .description("VFIO devices on this node by migration capability (none: cannot migrate)")
          .tag("capability", capability)
          .register(registry);
    }
  }

  /** A task ended; {@code outcome} is its phase. */
  public void taskEnded(
      String operation, String outcome, Duration took, long bytes, Long downtimeMillis) {
    Counter.builder("vfio_agent_tasks")
        .description("Tasks run by this agent")
        .tag("operation", operation)
        .tag("outcome", outcome)
        .register(registry)
        .increment();
    Timer.builder("vfio_agent_task_duration")
        .description("Time from claim to end of a task")
        .tag("operation", operation)
        .publishPercentileHistogram()
        .register(registry)
        .record(took);
    Counter.builder("vfio_agent_state_bytes")
        .description("Bytes of device state moved")
        .tag("operation", operation)
        .register(registry)
        .increment(bytes);
    if (bytes > 0 && !took.isZero()) {
      DistributionSummary.builder("vfio_agent_throughput_bytes_per_second")
          .description("Average rate of a task's data path")
          .baseUnit("bytes")
          .tag("operation", operation)
          .publishPercentileHistogram()
          .register(registry)
          .record(bytes * 1000.0 / Math.max(1, took.toMillis()));
    }
    if (downtimeMillis != null) {
      Timer.builder("vfio_agent_downtime")
          .description("Time the devices of a Save were out of RUNNING")
          .tag("operation", operation)
          .publishPercentileHistogram()
          .register(registry)
          .record(Duration.ofMillis(downtimeMillis));
    }
  }

  /** Counts the inventory by capability; a device counts once per capability it has. */
  public void inventory(List<InventoryDevice> inventory) {
    for (String capability : CAPABILITIES) {
      devices
          .get(capability)
          .set(
              (int)
                  inventory.stream()
                      .filter(
                          d ->
                              capability.equals("none")
                                  ? !d.flags().migratable()
                                  : d.flags().names().contains(capability))
                      .count());
    }
  }

  public String scrape() {
    return registry.scrape();
  }
}
