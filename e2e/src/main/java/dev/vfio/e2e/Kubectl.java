package dev.vfio.e2e;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The {@code kubectl} of the release the harness runs, pointed at a cluster's kubeconfig: what a
 * user types, run as they would run it.
 *
 * @param binary the kubectl binary
 * @param kubeconfig the kubeconfig it uses
 */
public record Kubectl(Path binary, Path kubeconfig) {
  /** What one command printed, and how it exited. */
  public record Result(int exit, String output) {}

  /** Runs {@code kubectl args…} and returns what it printed (stdout and stderr together). */
  public Result run(String... args) throws IOException, InterruptedException {
    List<String> command =
        new ArrayList<>(List.of(binary.toString(), "--kubeconfig", kubeconfig.toString()));
    command.addAll(List.of(args));
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    byte[] output = process.getInputStream().readAllBytes();
    if (!process.waitFor(60, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new IOException("kubectl " + String.join(" ", args) + " did not end within a minute");
    }
    return new Result(process.exitValue(), new String(output, StandardCharsets.UTF_8));
  }

  /** As {@link #run}, failing unless kubectl exits 0. */
  public String ok(String... args) throws IOException, InterruptedException {
    Result result = run(args);
    if (result.exit() != 0) {
      throw new IllegalStateException(
          "kubectl "
              + String.join(" ", args)
              + " exited "
              + result.exit()
              + ":\n"
              + result.output());
    }
    return result.output();
  }
}
