package dev.vfio.bench;

import java.util.List;

/**
 * A variant against its baseline measured in the same runs: one ratio per run, so that a machine
 * that is slower in one run is slower for both sides of that ratio.
 *
 * @param benchmark the benchmark
 * @param scenario the scenario both were measured in
 * @param variant what is compared
 * @param baseline what it is compared against
 * @param metric the figure compared
 * @param ratios variant / baseline, one per run
 * @param goal the ratio the issue asks for, or NaN when it sets none
 */
public record Comparison(
    String benchmark,
    String scenario,
    String variant,
    String baseline,
    String metric,
    List<Double> ratios,
    double goal) {

  public Comparison {
    ratios = List.copyOf(ratios);
  }

  public Spread spread() {
    return Spread.of(ratios);
  }
}
