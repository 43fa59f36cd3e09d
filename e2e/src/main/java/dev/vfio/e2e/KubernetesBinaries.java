package dev.vfio.e2e;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * {@code kube-apiserver}, {@code etcd} and {@code kubectl} of one Kubernetes release where
 * kube-api-test looks for them ({@code $KUBE_API_TEST_DIR}, by default {@code ~/.kubeapitest}),
 * built from source by {@code apiserver-testbed/build.sh} on first use. Nothing is downloaded:
 * binaries an envtest user placed there are used as they are.
 */
final class KubernetesBinaries {
  private static final List<String> NAMES =
      List.of("kube-apiserver", "etcd", "kubectl", "kube-controller-manager");

  private KubernetesBinaries() {}

  /** The directory holding the three binaries of {@code version}, after building them if needed. */
  static synchronized Path ensure(SourceTree source, String version) throws IOException {
    Path root = root();
    Path directory = root.resolve("k8s").resolve(version + "-" + ApiServer.platform());
    if (complete(directory)) {
      return directory;
    }
    Path script = source.apiServerTestbed().resolve("build.sh");
    ProcessBuilder build = new ProcessBuilder("sh", script.toString()).redirectErrorStream(true);
    build.environment().put("KUBE_API_TEST_DIR", root.toString());
    try {
      Process process = build.start();
      // Through System.out rather than inherited: under Surefire the JVM's own stdout is the
      // channel to Maven, which a child writing to it directly would corrupt.
      try (BufferedReader lines =
          new BufferedReader(
              new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
        lines.lines().forEach(System.out::println);
      }
      int exit = process.waitFor();
      if (exit != 0 || !complete(directory)) {
        throw new IOException(
            script + " exited " + exit + " without building " + NAMES + " into " + directory);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while building the Kubernetes binaries", e);
    }
    return directory;
  }

  /** Where kube-api-test keeps binaries and certificates. */
  static Path root() {
    String configured = System.getenv("KUBE_API_TEST_DIR");
    return configured == null || configured.isBlank()
        ? Path.of(System.getProperty("user.home"), ".kubeapitest")
        : Path.of(configured);
  }

  /** {@code kubectl} of the release the harness runs, built if needed. */
  static Path kubectl(SourceTree source) throws IOException {
    return ensure(source, source.kubernetesVersion()).resolve("kubectl");
  }

  private static boolean complete(Path directory) {
    return NAMES.stream().allMatch(name -> Files.isExecutable(directory.resolve(name)));
  }
}
