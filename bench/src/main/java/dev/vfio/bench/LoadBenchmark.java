package dev.vfio.bench;

import dev.vfio.bench.PathProbe.Outcome;
import dev.vfio.bench.PathProbe.Variant;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Load path: a blob loaded into a simulated device with every check (open, compatibility, verify,
 * copyTo, RUNNING), against a sequential read of a file of the same size: the default blob (sealed
 * by AES-256-GCM), one sealed by HMAC-SHA-256, one unsealed, and one with the SHA-256 digest. Reads
 * start from a cold page cache when the benchmark may drop it. Verify-only isolates the blob checks
 * from the simulated device, whose RESUMING side recomputes every byte to check it.
 */
final class LoadBenchmark implements Benchmark {
  static final String NAME = "load";
  static final String AGENT = "agent blob load";
  static final String VERIFY = "blob verify only";
  static final String AGENT_HMAC = "agent blob load, HMAC seal";
  static final String AGENT_UNSEALED = "agent blob load, unsealed";
  static final String AGENT_SHA256 = "agent blob load, SHA-256 digest";
  static final String RAW = "raw read";
  static final String THROUGHPUT = "throughput";
  private static final String PROBE_HEAP = "1g";

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public void run(Settings settings, Results results) throws Exception {
    Path work = Files.createDirectories(settings.work().resolve(NAME));
    if (!settings.dropCaches()) {
      results.note(
          "load: the page cache was not dropped between reads (needs root), so reads"
              + " measure memory, not the disk");
    }
    for (long size : settings.stateSizes()) {
      String scenario = Settings.size(size);
      Path blob = work.resolve("state.vfs");
      Path digested = work.resolve("state-sha256.vfs");
      Path hmac = work.resolve("state-hmac.vfs");
      Path unsealed = work.resolve("state-unsealed.vfs");
      Path raw = work.resolve("state.raw");
      SaveBenchmark.clear(work.resolve("device"));
      PathProbe.launch(
          Variant.BLOB_SAVE,
          size,
          blob,
          work.resolve("device"),
          PROBE_HEAP,
          false,
          work.resolve("probe.log"));
      for (Map.Entry<Variant, Path> other :
          Map.of(
                  Variant.BLOB_SAVE_SHA256, digested,
                  Variant.BLOB_SAVE_HMAC, hmac,
                  Variant.BLOB_SAVE_UNSEALED, unsealed)
              .entrySet()) {
        SaveBenchmark.clear(work.resolve("device"));
        PathProbe.launch(
            other.getKey(),
            size,
            other.getValue(),
            work.resolve("device"),
            PROBE_HEAP,
            false,
            work.resolve("probe.log"));
      }
      PathProbe.launch(
          Variant.RAW_WRITE,
          Files.size(blob),
          raw,
          work.resolve("device"),
          PROBE_HEAP,
          false,
          work.resolve("probe.log"));
      List<String> names = List.of(RAW, AGENT, VERIFY, AGENT_HMAC, AGENT_UNSEALED, AGENT_SHA256);
      for (int run = 0; run < settings.runs(); run++) {
        for (int i = 0; i < names.size(); i++) {
          String name = names.get((i + run) % names.size());
          SaveBenchmark.clear(work.resolve("device"));
          Variant variant =
              switch (name) {
                case RAW -> Variant.RAW_READ;
                case VERIFY -> Variant.BLOB_VERIFY;
                default -> Variant.BLOB_LOAD;
              };
          Path file =
              switch (name) {
                case RAW -> raw;
                case AGENT_SHA256 -> digested;
                case AGENT_HMAC -> hmac;
                case AGENT_UNSEALED -> unsealed;
                default -> blob;
              };
          Outcome outcome =
              PathProbe.launch(
                  variant,
                  size,
                  file,
                  work.resolve("device"),
                  PROBE_HEAP,
                  settings.dropCaches(),
                  work.resolve("probe.log"));
          results.record(
              NAME,
              scenario,
              name,
              THROUGHPUT,
              "MiB/s",
              size / (double) Settings.MIB / outcome.seconds());
          results.record(
              NAME,
              scenario,
              name,
              TransferBenchmark.CPU,
              "CPU s/GiB",
              outcome.cpuSeconds() / (size / (double) Settings.GIB));
        }
      }
      Files.deleteIfExists(blob);
      Files.deleteIfExists(digested);
      Files.deleteIfExists(hmac);
      Files.deleteIfExists(unsealed);
      Files.deleteIfExists(raw);
      for (String name : names.subList(1, names.size())) {
        results.compare(NAME, scenario, name, RAW, THROUGHPUT, Double.NaN);
      }
      results.compare(NAME, scenario, AGENT, AGENT_HMAC, THROUGHPUT, Double.NaN);
      results.compare(NAME, scenario, AGENT, AGENT_UNSEALED, THROUGHPUT, Double.NaN);
    }
  }
}
