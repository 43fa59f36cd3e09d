package dev.vfio.e2e;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.vfio.api.v1alpha1.MigrationPhase;
import dev.vfio.api.v1alpha1.SnapshotPhase;
import dev.vfio.api.v1alpha1.VfioMigration;
import dev.vfio.api.v1alpha1.VfioSnapshot;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The sandbox as {@code --exit} runs it, in this JVM: every shipped snapshot example ends Ready.
 */
class SandboxTest {
  private static final Path EXAMPLES = SourceTree.current().examples();

  @Test
  @Timeout(value = 5, unit = TimeUnit.MINUTES)
  void everyExampleSucceedsAndTheFinalTablesSaySo(@TempDir Path work) throws Exception {
    ByteArrayOutputStream printed = new ByteArrayOutputStream();
    Sandbox.Outcome outcome;
    try (Sandbox sandbox =
        new Sandbox(EXAMPLES, work, new PrintStream(printed, true, UTF_8), false)) {
      outcome = sandbox.run();
    } finally {
      // What a user would have seen, in the test report.
      System.out.print(printed.toString(UTF_8));
    }
    String output = printed.toString(UTF_8);

    Set<String> examples = snapshotExamples();
    assertFalse(examples.isEmpty(), "the examples include VfioSnapshots");
    assertEquals(
        examples, names(outcome.snapshots()), "the sandbox applied every snapshot example");
    for (VfioSnapshot snapshot : outcome.snapshots()) {
      assertEquals(
          SnapshotPhase.Ready,
          snapshot.getStatus().getPhase(),
          () ->
              snapshot.getMetadata().getName()
                  + " ended "
                  + snapshot.getStatus().getPhase()
                  + "\n"
                  + logs(work));
      assertTrue(snapshot.getStatus().getReadyToUse());
    }
    assertEquals(
        2, outcome.migrations().size(), "the live migration and the restore example both ran");
    for (VfioMigration migration : outcome.migrations()) {
      assertEquals(
          MigrationPhase.Succeeded,
          migration.getStatus().getPhase(),
          () ->
              migration.getMetadata().getName()
                  + " ended "
                  + migration.getStatus().getPhase()
                  + "\n"
                  + logs(work));
    }
    assertTrue(outcome.allReady());

    assertTrue(
        output.contains("$ kubectl get vsnap -o wide\n" + outcome.finalTable()),
        "the final table is printed");
    List<String> table = outcome.finalTable().lines().toList();
    int phase = table.get(0).indexOf("PHASE");
    for (String name : examples) {
      String row =
          table.stream()
              .filter(line -> line.startsWith(name + " "))
              .findFirst()
              .orElseThrow(
                  () -> new AssertionError("no row for " + name + " in\n" + outcome.finalTable()));
      assertEquals(
          "Ready",
          row.substring(phase).split(" ")[0],
          () -> "PHASE of " + name + " in\n" + outcome.finalTable());
    }
    assertTrue(
        output.contains("$ kubectl get vmig -o wide"), "the migrations' final table is printed");
    assertTrue(
        output.contains("$ kubectl get vsched -o wide")
            && output.contains("gpu-workload-nightly   0 3 * * *"),
        "the schedule example is applied and shown waiting for its next run");
  }

  /** The names of the VfioSnapshots under examples/, read independently of the sandbox. */
  private static Set<String> snapshotExamples() throws IOException {
    ObjectMapper yaml = new ObjectMapper(new YAMLFactory());
    Set<String> names = new TreeSet<>();
    try (Stream<Path> files = Files.list(EXAMPLES)) {
      for (Path file : files.filter(f -> f.toString().endsWith(".yaml")).toList()) {
        try (var documents = yaml.readerFor(JsonNode.class).<JsonNode>readValues(file.toFile())) {
          while (documents.hasNext()) {
            JsonNode document = documents.next();
            if ("VfioSnapshot".equals(document.path("kind").asText())) {
              names.add(document.path("metadata").path("name").asText());
            }
          }
        }
      }
    }
    return names;
  }

  private static Set<String> names(List<VfioSnapshot> snapshots) {
    Set<String> names = new TreeSet<>();
    snapshots.forEach(s -> names.add(s.getMetadata().getName()));
    return names;
  }

  private static String logs(Path work) {
    StringBuilder text = new StringBuilder();
    try (Stream<Path> files = Files.list(work.resolve("logs"))) {
      for (Path log : files.sorted().toList()) {
        List<String> lines = Files.readAllLines(log);
        text.append("===== ").append(log.getFileName()).append(" (last 40 lines)\n");
        lines
            .subList(Math.max(0, lines.size() - 40), lines.size())
            .forEach(l -> text.append(l).append('\n'));
      }
    } catch (IOException e) {
      text.append("cannot read the logs: ").append(e);
    }
    return text.toString();
  }
}
