package dev.vfio.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The benchmark suite: measures the data path and the control plane against their limits in the
 * same run, prints a table, and writes {@code results.json} and PNG plots. Run it from the
 * repository root with {@code mvn -B -ntp -Pbench -DskipTests verify}.
 */
@Command(
    name = "bench",
    mixinStandardHelpOptions = true,
    description = "Measures vfio-operator's data path and control plane against their limits.")
public final class Bench implements Callable<Integer> {
  private static final List<Benchmark> ALL =
      List.of(
          new SaveBenchmark(),
          new LoadBenchmark(),
          new TransferBenchmark(),
          new DowntimeBenchmark(),
          new ControlPlaneBenchmark(),
          new CodecBenchmark());

  @Option(names = "--smoke", description = "Tiny sizes and one run: checks that the suite runs.")
  boolean smoke;

  @Option(
      names = "--only",
      split = ",",
      paramLabel = "NAME",
      description = "Benchmarks to run: save, load, transfer, downtime, controlplane, codec.")
  List<String> only;

  @Option(names = "--runs", description = "Measured runs of every variant (default 5, smoke 1).")
  Integer runs;

  @Option(
      names = "--sizes",
      split = ",",
      paramLabel = "SIZE",
      description = "State sizes of the save and load paths, such as 256M,1G,4G.")
  List<String> sizes;

  @Option(
      names = "--snapshots",
      split = ",",
      paramLabel = "N",
      description = "VfioSnapshot counts of the control-plane benchmark (default 100,1000).")
  List<Integer> snapshots;

  @Option(
      names = "--plot-only",
      description = "Measure nothing: draw the plots again from the results.json in --out.")
  boolean plotOnly;

  @Option(names = "--out", description = "Where results.json and the plots go.")
  Path out = Path.of("docs", "benchmarks");

  @Option(names = "--work", description = "Scratch directory on the disk under test.")
  Path work = Path.of(System.getProperty("java.io.tmpdir"), "vfio-bench");

  public static void main(String[] args) {
    System.setProperty("java.awt.headless", "true");
    // The profile passes --out docs/benchmarks first; a later --out in -Dbench.args wins.
    System.exit(new CommandLine(new Bench()).setOverwrittenOptionsAllowed(true).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    Settings settings = settings();
    if (plotOnly) {
      for (Path chart :
          Charts.write(Results.readJson(settings.out().resolve("results.json")), settings.out())) {
        System.out.println("wrote " + chart);
      }
      return 0;
    }
    Results results = new Results();
    List<Benchmark> chosen = new ArrayList<>();
    for (Benchmark benchmark : ALL) {
      if (only == null || only.contains(benchmark.name())) {
        chosen.add(benchmark);
      }
    }
    if (only != null && chosen.size() != only.size()) {
      throw new CommandLine.ParameterException(
          new CommandLine(this),
          "unknown benchmark in "
              + only
              + "; known: "
              + ALL.stream().map(Benchmark::name).toList());
    }
    Files.createDirectories(settings.work());
    for (Benchmark benchmark : chosen) {
      long start = System.nanoTime();
      System.out.println("== " + benchmark.name());
      benchmark.run(settings, results);
      System.out.printf(
          Locale.ROOT,
          "== %s done in %.0f s%n",
          benchmark.name(),
          (System.nanoTime() - start) / 1e9);
    }
    String table = results.table();
    System.out.println();
    System.out.print(table);
    Files.createDirectories(settings.out());
    Files.writeString(settings.out().resolve("results.txt"), table);
    results.writeJson(settings.out().resolve("results.json"), conditions(settings));
    for (Path chart : Charts.write(results, settings.out())) {
      System.out.println("wrote " + chart);
    }
    SaveBenchmark.clear(settings.work());
    return 0;
  }

  private Settings settings() {
    int count = runs != null ? runs : smoke ? 1 : 5;
    List<Long> stateSizes =
        sizes != null
            ? sizes.stream().map(Bench::bytes).toList()
            : smoke
                ? List.of(4 * Settings.MIB, 8 * Settings.MIB)
                : List.of(256 * Settings.MIB, Settings.GIB, 4 * Settings.GIB);
    List<Integer> counts = snapshots != null ? snapshots : smoke ? List.of(4) : List.of(100, 1000);
    if (smoke) {
      return new Settings(
          count,
          stateSizes,
          4 * Settings.MIB,
          List.of(1, 2),
          2 * Settings.MIB,
          8 * Settings.MIB,
          List.of(64 * 1024L),
          counts,
          2,
          0,
          work,
          out,
          PageCache.canDrop());
    }
    return new Settings(
        count,
        stateSizes,
        256 * Settings.MIB,
        List.of(1, 4),
        64 * Settings.MIB,
        64 * Settings.MIB,
        List.of(256 * 1024L, Settings.MIB, 4 * Settings.MIB, 16 * Settings.MIB),
        counts,
        10,
        1,
        work,
        out,
        PageCache.canDrop());
  }

  private Map<String, Object> conditions(Settings settings) {
    Map<String, Object> conditions = new LinkedHashMap<>();
    conditions.put("command", "mvn -B -ntp -Pbench -DskipTests verify");
    conditions.put("smoke", smoke);
    conditions.put("settings", settings.toString());
    conditions.put("processors", Runtime.getRuntime().availableProcessors());
    conditions.put(
        "java",
        System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"));
    conditions.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version"));
    return conditions;
  }

  /** {@code 256M}, {@code 1G}, {@code 4096K} or plain bytes. */
  static long bytes(String size) {
    String s = size.trim().toUpperCase(Locale.ROOT);
    long unit =
        switch (s.charAt(s.length() - 1)) {
          case 'K' -> 1024L;
          case 'M' -> Settings.MIB;
          case 'G' -> Settings.GIB;
          default -> 1L;
        };
    String digits = unit == 1 ? s : s.substring(0, s.length() - 1);
    return Long.parseLong(digits) * unit;
  }
}
