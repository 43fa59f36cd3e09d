package dev.vfio.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * Everything one run of the suite measured, in the order it was measured: figures run by run, and
 * the ratios of variants to their baselines. Thread-safe.
 */
public final class Results {
  private record Key(String benchmark, String scenario, String variant, String metric) {}

  private final Map<Key, List<Double>> runs = new LinkedHashMap<>();
  private final Map<Key, String> units = new LinkedHashMap<>();
  private final List<Comparison> comparisons = new ArrayList<>();
  private final List<String> notes = new ArrayList<>();

  /** Appends the figure of one run. */
  public synchronized void record(
      String benchmark, String scenario, String variant, String metric, String unit, double value) {
    Key key = new Key(benchmark, scenario, variant, metric);
    runs.computeIfAbsent(key, k -> new ArrayList<>()).add(value);
    units.put(key, unit);
  }

  /** Something a reader of the results must know, such as a variant that could not run. */
  public synchronized void note(String text) {
    notes.add(text);
  }

  /**
   * Ratios of {@code variant} to {@code baseline}, run by run, for a figure both recorded the same
   * number of times.
   *
   * @param goal the ratio to reach, or NaN
   */
  public synchronized Comparison compare(
      String benchmark,
      String scenario,
      String variant,
      String baseline,
      String metric,
      double goal) {
    List<Double> of = runs.get(new Key(benchmark, scenario, variant, metric));
    List<Double> against = runs.get(new Key(benchmark, scenario, baseline, metric));
    Objects.requireNonNull(of, () -> benchmark + " " + scenario + " " + variant + " " + metric);
    Objects.requireNonNull(
        against, () -> benchmark + " " + scenario + " " + baseline + " " + metric);
    if (of.size() != against.size()) {
      throw new IllegalStateException(
          benchmark
              + " "
              + scenario
              + ": "
              + variant
              + " has "
              + of.size()
              + " runs, "
              + baseline
              + " has "
              + against.size());
    }
    List<Double> ratios = new ArrayList<>();
    for (int i = 0; i < of.size(); i++) {
      ratios.add(of.get(i) / against.get(i));
    }
    Comparison comparison =
        new Comparison(benchmark, scenario, variant, baseline, metric, ratios, goal);
    comparisons.add(comparison);
    return comparison;
  }

  /**
   * The results a run wrote with {@link #writeJson}, so that its plots can be drawn again without
   * measuring again.
   */
  public static Results readJson(Path file) throws IOException {
    JsonNode document = new ObjectMapper().readTree(file.toFile());
    Results results = new Results();
    for (JsonNode figure : document.get("figures")) {
      for (JsonNode run : figure.get("runs")) {
        results.record(
            figure.get("benchmark").asText(),
            figure.get("scenario").asText(),
            figure.get("variant").asText(),
            figure.get("metric").asText(),
            figure.get("unit").asText(),
            run.asDouble());
      }
    }
    for (JsonNode ratio : document.get("ratios")) {
      List<Double> values = new ArrayList<>();
      ratio.get("runs").forEach(run -> values.add(run.asDouble()));
      results.comparisons.add(
          new Comparison(
              ratio.get("benchmark").asText(),
              ratio.get("scenario").asText(),
              ratio.get("variant").asText(),
              ratio.get("baseline").asText(),
              ratio.get("metric").asText(),
              values,
              ratio.has("goal") ? ratio.get("goal").asDouble() : Double.NaN));
    }
    document.get("notes").forEach(note -> results.notes.add(note.asText()));
    return results;
  }

  public synchronized List<Measurement> measurements() {
    List<Measurement> all = new ArrayList<>();
    runs.forEach(
        (key, values) ->
            all.add(
                new Measurement(
                    key.benchmark(),
                    key.scenario(),
                    key.variant(),
                    key.metric(),
                    units.get(key),
                    values)));
    return all;
  }

  public synchronized List<Comparison> comparisons() {
    return List.copyOf(comparisons);
  }

  public synchronized List<String> notes() {
    return List.copyOf(notes);
  }

  /** The comparisons first (they are the point), then every figure, as fixed-width text. */
  public synchronized String table() {
    StringBuilder out = new StringBuilder();
    String ratioRow = "%-9s %-22s %-30s %-14s %-12s %8s  %-19s %s%n";
    out.append(
        String.format(
            Locale.ROOT,
            ratioRow,
            "BENCHMARK",
            "SCENARIO",
            "VARIANT",
            "VS BASELINE",
            "METRIC",
            "RATIO",
            "[MIN-MAX]",
            "GOAL"));
    for (Comparison c : comparisons) {
      Spread s = c.spread();
      out.append(
          String.format(
              Locale.ROOT,
              ratioRow,
              c.benchmark(),
              c.scenario(),
              c.variant(),
              c.baseline(),
              c.metric(),
              format(s.median()),
              "[" + format(s.min()) + "-" + format(s.max()) + "]",
              Double.isNaN(c.goal()) ? "" : ">= " + format(c.goal())));
    }
    out.append(System.lineSeparator());
    String valueRow = "%-9s %-22s %-30s %-14s %10s  %-23s %s%n";
    out.append(
        String.format(
            Locale.ROOT,
            valueRow,
            "BENCHMARK",
            "SCENARIO",
            "VARIANT",
            "METRIC",
            "MEDIAN",
            "[MIN-MAX]",
            "UNIT"));
    for (Measurement m : measurements()) {
      Spread s = m.spread();
      out.append(
          String.format(
              Locale.ROOT,
              valueRow,
              m.benchmark(),
              m.scenario(),
              m.variant(),
              m.metric(),
              format(s.median()),
              "[" + format(s.min()) + "-" + format(s.max()) + "]",
              m.unit() + " (" + m.runs().size() + " runs)"));
    }
    for (String note : notes) {
      out.append("note: ").append(note).append(System.lineSeparator());
    }
    return out.toString();
  }

  /** Writes the figures, ratios, notes and the conditions of the run as JSON. */
  public synchronized void writeJson(Path file, Map<String, Object> conditions) throws IOException {
    Map<String, Object> document = new LinkedHashMap<>();
    document.put("finishedAt", Instant.now().toString());
    document.put("conditions", conditions);
    List<Map<String, Object>> ratios = new ArrayList<>();
    for (Comparison c : comparisons) {
      Map<String, Object> entry = new LinkedHashMap<>();
      entry.put("benchmark", c.benchmark());
      entry.put("scenario", c.scenario());
      entry.put("variant", c.variant());
      entry.put("baseline", c.baseline());
      entry.put("metric", c.metric());
      entry.put("spread", c.spread());
      entry.put("runs", c.ratios());
      if (!Double.isNaN(c.goal())) {
        entry.put("goal", c.goal());
      }
      ratios.add(entry);
    }
    List<Map<String, Object>> figures = new ArrayList<>();
    for (Measurement m : measurements()) {
      Map<String, Object> entry = new LinkedHashMap<>();
      entry.put("benchmark", m.benchmark());
      entry.put("scenario", m.scenario());
      entry.put("variant", m.variant());
      entry.put("metric", m.metric());
      entry.put("unit", m.unit());
      entry.put("spread", m.spread());
      entry.put("runs", m.runs());
      figures.add(entry);
    }
    document.put("ratios", ratios);
    document.put("figures", figures);
    document.put("notes", notes);
    Files.createDirectories(file.toAbsolutePath().getParent());
    new ObjectMapper()
        .enable(SerializationFeature.INDENT_OUTPUT)
        .writeValue(file.toFile(), document);
  }

  static String format(double value) {
    if (Double.isNaN(value)) {
      return "n/a";
    }
    double magnitude = Math.abs(value);
    if (magnitude >= 100) {
      return String.format(Locale.ROOT, "%.0f", value);
    }
    if (magnitude >= 10) {
      return String.format(Locale.ROOT, "%.1f", value);
    }
    return String.format(Locale.ROOT, "%.2f", value);
  }
}
