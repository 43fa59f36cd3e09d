package dev.vfio.e2e;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The repository the harness runs from: where the examples, the Helm chart and the Go module that
 * pins the Kubernetes release live. Tests, the sandbox and the benchmarks all run from a directory
 * inside it.
 *
 * @param root the repository's top directory
 */
public record SourceTree(Path root) {
  private static final Pattern KUBERNETES =
      Pattern.compile("(?m)^\\s*k8s\\.io/kubernetes v(\\d+\\.\\d+\\.\\d+)(\\s.*)?$");

  /** The repository that {@code from} is in. */
  public static SourceTree containing(Path from) {
    for (Path dir = from.toAbsolutePath(); dir != null; dir = dir.getParent()) {
      if (Files.isRegularFile(dir.resolve("apiserver-testbed").resolve("go.mod"))
          && Files.isDirectory(dir.resolve("examples"))) {
        return new SourceTree(dir);
      }
    }
    throw new IllegalStateException(
        "no apiserver-testbed/go.mod in "
            + from.toAbsolutePath()
            + " or above it: run from the repository");
  }

  /** The repository the current directory is in. */
  public static SourceTree current() {
    return containing(Path.of(""));
  }

  public Path examples() {
    return root.resolve("examples");
  }

  public Path chart() {
    return root.resolve("helm").resolve("vfio-operator");
  }

  public Path apiServerTestbed() {
    return root.resolve("apiserver-testbed");
  }

  /**
   * The Kubernetes release the test bed builds, as {@code go.mod} pins it (e.g. {@code 1.37.2}).
   */
  public String kubernetesVersion() {
    try {
      Matcher matcher = KUBERNETES.matcher(Files.readString(apiServerTestbed().resolve("go.mod")));
      if (!matcher.find()) {
        throw new IllegalStateException(
            "apiserver-testbed/go.mod requires no k8s.io/kubernetes release");
      }
      return matcher.group(1);
    } catch (IOException e) {
      throw new IllegalStateException("cannot read apiserver-testbed/go.mod", e);
    }
  }
}
