package dev.vfio.helm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.marcnuri.helm.Helm;
import com.marcnuri.helm.LintResult;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The chart as a whole: lint, its CRDs, what it tells the user after an install. */
class ChartTest {
  private static final Path GENERATED_CRDS =
      Path.of(System.getProperty("vfio.crds", "../crds/manifests"));

  @Test
  void chartPassesStrictLint() {
    LintResult lint = new Helm(RenderedChart.CHART).lint().strict().call();

    assertFalse(lint.isFailed(), () -> "helm lint --strict: " + lint.getMessages());
    assertTrue(
        lint.getMessages().stream()
            .noneMatch(m -> m.startsWith("[ERROR]") || m.startsWith("[WARNING]")),
        () -> "helm lint --strict: " + lint.getMessages());
  }

  @Test
  void chartCrdsAreByteForByteTheGeneratedManifests() throws IOException {
    List<String> generated = fileNames(GENERATED_CRDS);
    assertEquals(
        generated,
        fileNames(RenderedChart.CHART.resolve("crds")),
        "helm/vfio-operator/crds/ must hold exactly crds/manifests/*.yaml: copy them again");
    assertFalse(generated.isEmpty());
    for (String name : generated) {
      assertArrayEquals(
          Files.readAllBytes(GENERATED_CRDS.resolve(name)),
          Files.readAllBytes(RenderedChart.CHART.resolve("crds").resolve(name)),
          () ->
              "helm/vfio-operator/crds/"
                  + name
                  + " differs from crds/manifests/"
                  + name
                  + ": cp crds/manifests/*.yaml helm/vfio-operator/crds/");
    }
  }

  @Test
  void notesTellTheUserWhatToRunNext() {
    String notes =
        new Helm(RenderedChart.CHART)
            .install()
            .clientOnly()
            .dryRun()
            .withName(RenderedChart.RELEASE)
            .withNamespace(RenderedChart.NAMESPACE)
            .set("agent.backend", "simulated")
            .call()
            .getOutput();

    assertTrue(notes.contains("kubectl get vfionodes"), notes);
    assertTrue(notes.contains("kubectl apply -f examples/sandbox/"), notes);
    assertTrue(notes.contains("kubectl apply -f examples/snapshot.yaml"), notes);
    assertTrue(notes.contains("kubectl get vsnap -w"), notes);
    assertTrue(notes.contains("kubectl apply -f examples/restore-from-snapshot.yaml"), notes);
  }

  @Test
  void notesWarnThatTheKernelBackendIsNotThereYet() {
    String notes =
        new Helm(RenderedChart.CHART)
            .install()
            .clientOnly()
            .dryRun()
            .withName(RenderedChart.RELEASE)
            .withNamespace(RenderedChart.NAMESPACE)
            .call()
            .getOutput();

    assertTrue(notes.contains("--set agent.backend=simulated"), notes);
  }

  private static List<String> fileNames(Path directory) throws IOException {
    try (Stream<Path> files = Files.list(directory)) {
      return files
          .map(f -> f.getFileName().toString())
          .filter(n -> n.endsWith(".yaml"))
          .sorted()
          .toList();
    }
  }
}
