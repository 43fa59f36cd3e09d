package dev.vfio.bench;

import java.awt.Color;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.CategoryAxis;
import org.jfree.chart.axis.CategoryLabelPositions;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.plot.ValueMarker;
import org.jfree.chart.renderer.category.BoxAndWhiskerRenderer;
import org.jfree.data.statistics.DefaultBoxAndWhiskerCategoryDataset;

/**
 * Plots of one run of the suite, as PNG: per benchmark, the ratios to the baselines (with the goal
 * as a line where the issue sets one), and every figure per metric. Box plots, because the point is
 * the median and the spread over the runs.
 */
final class Charts {
  private static final int WIDTH = 1000;
  private static final int HEIGHT = 560;

  private Charts() {}

  /** Writes the plots into {@code directory} and returns their files. */
  static List<Path> write(Results results, Path directory) throws IOException {
    List<Path> written = new ArrayList<>();
    Set<String> benchmarks = new LinkedHashSet<>();
    results.measurements().forEach(m -> benchmarks.add(m.benchmark()));
    for (String benchmark : benchmarks) {
      // One plot per metric: a memory ratio of 80 would flatten throughput ratios below 1.
      Map<String, List<Comparison>> ratiosByMetric = new LinkedHashMap<>();
      results.comparisons().stream()
          .filter(c -> c.benchmark().equals(benchmark))
          .forEach(c -> ratiosByMetric.computeIfAbsent(c.metric(), k -> new ArrayList<>()).add(c));
      for (var metric : ratiosByMetric.entrySet()) {
        DefaultBoxAndWhiskerCategoryDataset dataset = new DefaultBoxAndWhiskerCategoryDataset();
        double goal = Double.NaN;
        for (Comparison c : metric.getValue()) {
          dataset.add(c.ratios(), c.variant() + " / " + c.baseline(), c.scenario());
          if (!Double.isNaN(c.goal())) {
            goal = c.goal();
          }
        }
        Path file = directory.resolve(benchmark + "-ratios-" + slug(metric.getKey()) + ".png");
        save(
            chart(
                benchmark + ": " + metric.getKey() + ", ratio to the baseline of the same run",
                "ratio",
                dataset,
                goal),
            file);
        written.add(file);
      }
      Map<String, DefaultBoxAndWhiskerCategoryDataset> byMetric = new LinkedHashMap<>();
      Map<String, String> units = new LinkedHashMap<>();
      for (Measurement m : results.measurements()) {
        if (!m.benchmark().equals(benchmark) || m.scenario().equals("memory")) {
          continue;
        }
        byMetric
            .computeIfAbsent(m.metric(), k -> new DefaultBoxAndWhiskerCategoryDataset())
            .add(m.runs(), m.variant(), m.scenario());
        units.put(m.metric(), m.unit());
      }
      for (var entry : byMetric.entrySet()) {
        Path file = directory.resolve(benchmark + "-" + slug(entry.getKey()) + ".png");
        save(
            chart(
                benchmark + ": " + entry.getKey(),
                units.get(entry.getKey()),
                entry.getValue(),
                Double.NaN),
            file);
        written.add(file);
      }
    }
    return written;
  }

  private static String slug(String metric) {
    return metric.replaceAll("[^A-Za-z0-9]+", "-");
  }

  private static JFreeChart chart(
      String title, String valueLabel, DefaultBoxAndWhiskerCategoryDataset dataset, double goal) {
    BoxAndWhiskerRenderer renderer = new BoxAndWhiskerRenderer();
    renderer.setMeanVisible(false);
    renderer.setMedianVisible(true);
    renderer.setMaxOutlierVisible(true);
    renderer.setMinOutlierVisible(true);
    renderer.setMaximumBarWidth(0.08);
    CategoryAxis scenarios = new CategoryAxis("scenario");
    scenarios.setCategoryLabelPositions(CategoryLabelPositions.STANDARD);
    NumberAxis values = new NumberAxis(valueLabel);
    values.setAutoRangeIncludesZero(true);
    CategoryPlot plot = new CategoryPlot(dataset, scenarios, values, renderer);
    plot.setBackgroundPaint(Color.WHITE);
    plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
    if (!Double.isNaN(goal)) {
      ValueMarker marker = new ValueMarker(goal);
      marker.setPaint(Color.RED);
      marker.setLabel("goal " + goal);
      plot.addRangeMarker(marker);
    }
    JFreeChart chart = new JFreeChart(title, JFreeChart.DEFAULT_TITLE_FONT, plot, true);
    chart.setBackgroundPaint(Color.WHITE);
    return chart;
  }

  private static void save(JFreeChart chart, Path file) throws IOException {
    ChartUtils.saveChartAsPNG(file.toFile(), chart, WIDTH, HEIGHT);
  }
}
