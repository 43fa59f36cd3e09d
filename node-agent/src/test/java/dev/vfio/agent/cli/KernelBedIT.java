package dev.vfio.agent.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The agent's kernel code on a real Linux kernel: {@code kernel-testbed/run.sh} boots Debian's 6.1
 * kernel under QEMU with the VFIO stack and the project's {@code vfio_mig_test} driver, and its
 * guest runs {@code guest/agent-cli.sh}, which drives {@link VfioCtl} (this module's jar and its
 * runtime dependencies, on this JDK, in a chroot of the host) against a device a workload process
 * holds open. Every check the guest script makes must pass, by name, so a check that silently
 * stopped running fails too.
 *
 * <p>Runs only with {@code -Pkernel} (failsafe), as root, after {@code kernel-testbed/install.sh}.
 */
class KernelBedIT {
  /** Every check of {@code guest/agent-cli.sh}, in the order it makes them. */
  private static final List<String> CHECKS =
      List.of(
          "devices-list",
          "v1-listed",
          "probe-direct",
          "no-migration-refused",
          "v1-refused-with-reason",
          "not-vfio-path-refused",
          "workload-fills",
          "workload-reads",
          "probe-held",
          "save-held",
          "p2p-order-violation-detected",
          "running-after-save",
          "memory-intact-after-save",
          "workload-writes-after-save",
          "workload-overwrites",
          "overwritten",
          "load-held",
          "running-after-load",
          "pattern-restored",
          "workload-writes-after-load",
          "illegal-arc-einval",
          "running-after-illegal-arc",
          "memory-intact-after-illegal-arc",
          "workload-overwrites-again",
          "truncated-refused",
          "running-after-truncated",
          "memory-unchanged-after-truncated",
          "corrupted-refused",
          "running-after-corrupted",
          "memory-unchanged-after-corrupted",
          "not-vfio-fd-refused",
          "missing-fd-refused",
          "no-permission-refused",
          "running-after-bad-input",
          "memory-unchanged-after-bad-input",
          "save-group",
          "p2p-order-save-group",
          "workload-overwrites-before-group-load",
          "load-group",
          "p2p-order-load-group",
          "pattern-restored-by-group-load",
          "workload-quits",
          "rmmod");

  /** The libraries {@link VfioCtl} loads classes from, besides the agent's own jar. */
  private static final List<String> CLI_LIBRARIES =
      List.of(
          "picocli", "jna", "jackson-core", "jackson-databind", "jackson-annotations", "zstd-jni");

  /**
   * The guest's timeout: 16 JVM starts of 6-40 s each under TCG, on 2 cores other builds share
   * (run.sh's default of 540 s ran out at load 13 with three of the 16 starts left).
   */
  private static final long GUEST_TIMEOUT_SECONDS = 900;

  /** Above the guest's timeout, so that run.sh reports a hung guest itself. */
  private static final long TIMEOUT_SECONDS = GUEST_TIMEOUT_SECONDS + 60;

  @Test
  void theAgentSavesAndLoadsTheStateOfADeviceAWorkloadHolds() throws Exception {
    Path testbed = Path.of(System.getProperty("testbed.dir")).toRealPath();
    Path out = Path.of(System.getProperty("testbed.out"));
    Files.createDirectories(out);
    String classpath =
        classpath(
            System.getProperty("agent.jar"),
            Files.readString(Path.of(System.getProperty("agent.classpathFile"))).trim());

    ProcessBuilder builder =
        new ProcessBuilder(testbed.resolve("run.sh").toString()).redirectErrorStream(true);
    Map<String, String> env = builder.environment();
    env.put("OUT", out.toString());
    env.put("GUEST_SCRIPT", testbed.resolve("guest/agent-cli.sh").toString());
    env.put("RUN_JAVA", "0");
    env.put("TIMEOUT", String.valueOf(GUEST_TIMEOUT_SECONDS));
    env.put("AGENT_JAVA", Path.of(System.getProperty("java.home"), "bin", "java").toString());
    env.put("AGENT_CLASSPATH", classpath);
    env.put("GUEST_VARS", "AGENT_JAVA AGENT_CLASSPATH");
    Process run = builder.start();
    Thread echo = echo(run);
    boolean finished = run.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS);
    if (!finished) {
      run.destroyForcibly();
    }
    echo.join(TimeUnit.SECONDS.toMillis(10));

    assertTrue(finished, "run.sh did not finish within " + TIMEOUT_SECONDS + " s");
    List<String> log =
        Files.exists(out.resolve("guest.log"))
            ? Files.readAllLines(out.resolve("guest.log"), StandardCharsets.UTF_8)
            : List.of();
    List<String> failed = log.stream().filter(line -> line.startsWith("FAIL ")).toList();
    List<String> missing = new ArrayList<>();
    for (String check : CHECKS) {
      if (log.stream().noneMatch(line -> line.startsWith("PASS " + check + ":"))) {
        missing.add(check);
      }
    }
    assertEquals(List.of(), failed, "failed checks");
    assertEquals(List.of(), missing, "checks that did not pass");
    assertEquals(0, run.exitValue(), "run.sh exit status");
  }

  /**
   * The agent jar and all its runtime dependencies, the command line's own libraries first. The JVM
   * opens the jars of a class path in order until it finds a class, and over 9p under TCG each jar
   * costs; in this order the Kubernetes jars the agent needs elsewhere stay shut.
   */
  private static String classpath(String agentJar, String dependencies) {
    List<String> first = new ArrayList<>();
    List<String> rest = new ArrayList<>();
    for (String jar : dependencies.split(":")) {
      String name = Path.of(jar).getFileName().toString();
      boolean cli = CLI_LIBRARIES.stream().anyMatch(library -> name.matches(library + "-[0-9].*"));
      (cli ? first : rest).add(jar);
    }
    List<String> all = new ArrayList<>(List.of(agentJar));
    all.addAll(first);
    all.addAll(rest);
    return String.join(":", all);
  }

  /** Copies the run's output to this test's output as it comes, for whoever watches the build. */
  private static Thread echo(Process run) {
    Thread echo =
        new Thread(
            () -> {
              try (BufferedReader lines =
                  new BufferedReader(
                      new InputStreamReader(run.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line = lines.readLine(); line != null; line = lines.readLine()) {
                  System.out.println("[testbed] " + line);
                }
              } catch (IOException e) {
                System.out.println("[testbed] output ended: " + e.getMessage());
              }
            },
            "testbed-output");
    echo.setDaemon(true);
    echo.start();
    return echo;
  }
}
