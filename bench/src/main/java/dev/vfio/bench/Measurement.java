package dev.vfio.bench;

import java.util.List;

/**
 * One figure of one variant in one scenario, as measured in each run.
 *
 * @param benchmark the benchmark: {@code save}, {@code load}, {@code transfer}…
 * @param scenario what was fixed for the runs, such as the state size
 * @param variant what was measured: the agent's path or a baseline
 * @param metric what the numbers are: throughput, peak RSS, downtime…
 * @param unit the unit of the numbers
 * @param runs one number per run, in run order
 */
public record Measurement(
    String benchmark,
    String scenario,
    String variant,
    String metric,
    String unit,
    List<Double> runs) {

  public Measurement {
    runs = List.copyOf(runs);
  }

  public Spread spread() {
    return Spread.of(runs);
  }
}
