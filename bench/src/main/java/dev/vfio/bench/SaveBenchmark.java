package dev.vfio.bench;

import dev.vfio.bench.PathProbe.Outcome;
import dev.vfio.bench.PathProbe.Variant;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Save path: a simulated device's state saved to a blob on local disk, against the disk's
 * sequential write with fsync of the same size, the simulated device's own read rate, and Cloud
 * Hypervisor's whole-state-in-memory JSON document. Every variant runs in its own JVM so its peak
 * RSS is its own; the order of the variants rotates from run to run so that none always follows the
 * same neighbour.
 */
final class SaveBenchmark implements Benchmark {
  static final String NAME = "save";
  static final String AGENT = "agent blob";
  static final String AGENT_HMAC = "agent blob, HMAC seal";
  static final String AGENT_UNSEALED = "agent blob, unsealed";
  static final String AGENT_SHA256 = "agent blob, SHA-256 digest";
  static final String RAW = "raw write+fsync";
  static final String DD = "dd conv=fsync";
  static final String DEVICE = "device read only";
  static final String JSON = "in-memory base64 JSON";
  static final String THROUGHPUT = "throughput";
  static final String PEAK_RSS = "peak RSS";

  /** One array holds the whole state in the JSON variant; Java arrays end below 2 GiB. */
  private static final long JSON_LIMIT = Integer.MAX_VALUE - 64L * 1024;

  private static final String PROBE_HEAP = "12g";

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public void run(Settings settings, Results results) throws Exception {
    Path work = Files.createDirectories(settings.work().resolve(NAME));
    for (long size : settings.stateSizes()) {
      String scenario = Settings.size(size);
      Map<String, Variant> variants = new LinkedHashMap<>();
      variants.put(RAW, Variant.RAW_WRITE);
      variants.put(AGENT, Variant.BLOB_SAVE);
      variants.put(AGENT_HMAC, Variant.BLOB_SAVE_HMAC);
      variants.put(AGENT_UNSEALED, Variant.BLOB_SAVE_UNSEALED);
      variants.put(AGENT_SHA256, Variant.BLOB_SAVE_SHA256);
      variants.put(DEVICE, Variant.DEVICE_READ);
      if (size <= JSON_LIMIT) {
        variants.put(JSON, Variant.JSON_SAVE);
      } else {
        results.note(
            "save "
                + scenario
                + ": no "
                + JSON
                + " run; it needs the whole state in one"
                + " Java array, and those end below 2 GiB (Cloud Hypervisor would need "
                + Settings.size(size)
                + " plus its base64 in memory)");
      }
      List<String> names = new ArrayList<>(variants.keySet());
      names.add(DD);
      for (int run = 0; run < settings.runs(); run++) {
        for (int i = 0; i < names.size(); i++) {
          String name = names.get((i + run) % names.size());
          Path file = work.resolve("state.out");
          Files.deleteIfExists(file);
          clear(work.resolve("device"));
          PageCache.flush();
          double seconds;
          if (name.equals(DD)) {
            seconds = dd(file, size);
          } else {
            Outcome outcome =
                PathProbe.launch(
                    variants.get(name),
                    size,
                    file,
                    work.resolve("device"),
                    PROBE_HEAP,
                    false,
                    work.resolve("probe.log"));
            seconds = outcome.seconds();
            results.record(
                NAME, scenario, name, PEAK_RSS, "MiB", outcome.peakResidentKib() / 1024.0);
            results.record(
                NAME,
                "memory",
                name + " @ " + scenario,
                PEAK_RSS,
                "MiB",
                outcome.peakResidentKib() / 1024.0);
            results.record(
                NAME,
                scenario,
                name,
                TransferBenchmark.CPU,
                "CPU s/GiB",
                outcome.cpuSeconds() / (size / (double) Settings.GIB));
          }
          results.record(
              NAME, scenario, name, THROUGHPUT, "MiB/s", size / (double) Settings.MIB / seconds);
        }
      }
      Files.deleteIfExists(work.resolve("state.out"));
      results.compare(NAME, scenario, AGENT, RAW, THROUGHPUT, 0.9);
      results.compare(NAME, scenario, AGENT_UNSEALED, RAW, THROUGHPUT, Double.NaN);
      results.compare(NAME, scenario, AGENT, AGENT_UNSEALED, THROUGHPUT, Double.NaN);
      results.compare(NAME, scenario, AGENT_HMAC, RAW, THROUGHPUT, Double.NaN);
      results.compare(NAME, scenario, AGENT, AGENT_HMAC, THROUGHPUT, Double.NaN);
      results.compare(NAME, scenario, AGENT_SHA256, RAW, THROUGHPUT, Double.NaN);
      results.compare(NAME, scenario, AGENT, DEVICE, THROUGHPUT, Double.NaN);
      results.compare(NAME, scenario, DD, RAW, THROUGHPUT, Double.NaN);
      if (variants.containsKey(JSON)) {
        results.compare(NAME, scenario, JSON, RAW, THROUGHPUT, Double.NaN);
        results.compare(NAME, scenario, JSON, AGENT, PEAK_RSS, Double.NaN);
      }
    }
    long smallest = settings.stateSizes().get(0);
    for (long size : settings.stateSizes().subList(1, settings.stateSizes().size())) {
      // Flat memory: the agent's peak at a larger state over its peak at the smallest one.
      results.compare(
          NAME,
          "memory",
          AGENT + " @ " + Settings.size(size),
          AGENT + " @ " + Settings.size(smallest),
          PEAK_RSS,
          Double.NaN);
    }
  }

  /** dd of zeros with fsync, as the issue names it; timed from outside, process start included. */
  private static double dd(Path file, long bytes) throws IOException, InterruptedException {
    long start = System.nanoTime();
    Process dd =
        new ProcessBuilder(
                "dd",
                "if=/dev/zero",
                "of=" + file,
                "bs=1M",
                "count=" + bytes / Settings.MIB,
                "conv=fsync")
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.DISCARD)
            .start();
    if (dd.waitFor() != 0) {
      throw new IOException("dd exited " + dd.exitValue());
    }
    return (System.nanoTime() - start) / 1e9;
  }

  static void clear(Path directory) throws IOException {
    if (Files.exists(directory)) {
      try (var files = Files.walk(directory)) {
        for (Path path : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
          Files.delete(path);
        }
      }
    }
  }
}
