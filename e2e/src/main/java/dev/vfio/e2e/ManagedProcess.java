package dev.vfio.e2e;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A component started the way a user starts it: its own JVM, its real main class, its configuration
 * in the environment. Output goes to a log file that a failing test can show.
 */
public final class ManagedProcess implements AutoCloseable {
  private final String name;
  private final List<String> command;
  private final Map<String, String> environment;
  private final Path log;
  private Process process;

  public ManagedProcess(String name, String mainClass, Map<String, String> environment, Path log) {
    this.name = name;
    this.command =
        new ArrayList<>(
            List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m",
                "-XX:+UseSerialGC",
                "-XX:TieredStopAtLevel=1",
                "-cp",
                System.getProperty("java.class.path"),
                mainClass));
    this.environment = Map.copyOf(environment);
    this.log = log;
  }

  public synchronized ManagedProcess start() throws IOException {
    if (process != null && process.isAlive()) {
      throw new IllegalStateException(name + " is already running");
    }
    ProcessBuilder builder =
        new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    builder.environment().putAll(environment);
    process = builder.start();
    return this;
  }

  /**
   * SIGKILL: the process gets no chance to clean up, as when a node loses power or OOM kills it.
   */
  public synchronized void kill() throws InterruptedException {
    if (process != null) {
      process.destroyForcibly();
      process.waitFor(30, TimeUnit.SECONDS);
    }
  }

  /** SIGTERM and wait, as kubelet stops a pod. */
  public synchronized void stop() throws InterruptedException {
    if (process != null && process.isAlive()) {
      process.destroy();
      if (!process.waitFor(20, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
      }
    }
  }

  /**
   * SIGSTOP: the process stops answering without closing anything, as behind a network partition.
   */
  public synchronized void suspend() throws IOException, InterruptedException {
    signal("STOP");
  }

  /** SIGCONT after {@link #suspend}. */
  public synchronized void resume() throws IOException, InterruptedException {
    signal("CONT");
  }

  private void signal(String signal) throws IOException, InterruptedException {
    if (process == null || !process.isAlive()) {
      throw new IllegalStateException(name + " is not running");
    }
    int exit =
        new ProcessBuilder("kill", "-" + signal, Long.toString(process.pid()))
            .inheritIO()
            .start()
            .waitFor();
    if (exit != 0) {
      throw new IOException("kill -" + signal + " " + process.pid() + " exited " + exit);
    }
  }

  public synchronized boolean isAlive() {
    return process != null && process.isAlive();
  }

  public Path log() {
    return log;
  }

  public String name() {
    return name;
  }

  @Override
  public void close() {
    try {
      stop();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
