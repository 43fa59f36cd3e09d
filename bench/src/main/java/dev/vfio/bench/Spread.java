package dev.vfio.bench;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Median and spread of one figure over the runs of a benchmark: a shared machine is noisy, so a
 * single run says little and a mean hides outliers.
 *
 * @param median the middle run (mean of the two middle ones for an even count)
 * @param min the lowest run
 * @param max the highest run
 * @param q1 first quartile, interpolated
 * @param q3 third quartile, interpolated
 */
public record Spread(double median, double min, double max, double q1, double q3) {

  /** The spread of {@code values}; NaN everywhere when there are none. */
  public static Spread of(List<Double> values) {
    if (values.isEmpty()) {
      return new Spread(Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN);
    }
    List<Double> sorted = new ArrayList<>(values);
    Collections.sort(sorted);
    return new Spread(
        quantile(sorted, 0.5),
        sorted.get(0),
        sorted.get(sorted.size() - 1),
        quantile(sorted, 0.25),
        quantile(sorted, 0.75));
  }

  private static double quantile(List<Double> sorted, double q) {
    double at = q * (sorted.size() - 1);
    int below = (int) Math.floor(at);
    int above = (int) Math.ceil(at);
    return sorted.get(below) + (sorted.get(above) - sorted.get(below)) * (at - below);
  }
}
