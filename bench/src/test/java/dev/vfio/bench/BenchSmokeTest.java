package dev.vfio.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The suite in its smoke form (tiny sizes, one run), on every build: it checks that every benchmark
 * still runs end to end and writes its results, never how fast anything was.
 */
class BenchSmokeTest {
  @Test
  void smokeRunOfEveryBenchmarkWritesResultsAndPlots(@TempDir Path out, @TempDir Path work)
      throws Exception {
    System.setProperty("java.awt.headless", "true");
    int exit =
        new CommandLine(new Bench())
            .execute("--smoke", "--out", out.toString(), "--work", work.toString());

    assertEquals(0, exit);
    JsonNode results = new ObjectMapper().readTree(out.resolve("results.json").toFile());
    Set<String> measured = new HashSet<>();
    results.get("figures").forEach(figure -> measured.add(figure.get("benchmark").asText()));
    assertEquals(Set.of("save", "load", "transfer", "downtime", "control", "codec"), measured);
    assertFalse(results.get("ratios").isEmpty());
    assertTrue(Files.exists(out.resolve("results.txt")));
    assertTrue(Files.exists(out.resolve("save-ratios-throughput.png")));
    assertTrue(Files.exists(out.resolve("transfer-ratios-throughput.png")));
  }
}
