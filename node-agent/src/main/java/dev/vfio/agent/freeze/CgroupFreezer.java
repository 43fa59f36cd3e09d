package dev.vfio.agent.freeze;

import dev.vfio.agent.pods.PodCgroups;
import dev.vfio.agent.pods.PodRef;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Freezes a pod with the cgroup v2 freezer: writes {@code 1} to {@code cgroup.freeze} of the pod's
 * cgroup directory — which freezes every container below it — and waits until {@code cgroup.events}
 * reports {@code frozen 1}. The write only asks; processes stop at their next return to user space,
 * so the wait is what makes the pod still. Thaw writes {@code 0} and waits for {@code frozen 0};
 * thawing a pod whose cgroup is gone is a no-op (the pod ended).
 *
 * <p>{@code cgroup.events} is polled; a pod freezes in milliseconds, so a short interval costs
 * little and needs no inotify plumbing. One {@code cgroup.freeze} per pod knows nothing of who
 * froze it: the agent shares a pod's freeze between its operations through {@link SharedFreezer}.
 */
public final class CgroupFreezer implements PodFreezer {
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(10);
  public static final Duration DEFAULT_POLL_INTERVAL = Duration.ofMillis(10);
  private static final Logger LOG = LoggerFactory.getLogger(CgroupFreezer.class);
  private final PodCgroups cgroups;
  private final Duration timeout;
  private final Duration pollInterval;

  /** The host's {@code /sys/fs/cgroup}, with the default timeout. */
  public CgroupFreezer() {
    this(Path.of("/sys/fs/cgroup"));
  }

  public CgroupFreezer(Path cgroupRoot) {
    this(cgroupRoot, DEFAULT_TIMEOUT, DEFAULT_POLL_INTERVAL);
  }

  public CgroupFreezer(Path cgroupRoot, Duration timeout, Duration pollInterval) {
    if (timeout.isNegative() || pollInterval.isNegative() || pollInterval.isZero()) {
      throw new IllegalArgumentException(
          "freeze timeout " + timeout + " and poll interval " + pollInterval + " must be positive");
    }
    this.cgroups = new PodCgroups(cgroupRoot);
    this.timeout = timeout;
    this.pollInterval = pollInterval;
  }

  /**
   * Returns once the kernel reports the pod frozen. When it does not within the timeout, the pod is
   * thawed again before the error is thrown, so a failed freeze never leaves a pod stopped.
   */
  @Override
  public void freeze(PodRef pod) throws IOException {
    List<Path> directories = cgroups.podDirectories(pod.uid());
    if (directories.isEmpty()) {
      throw new NoSuchFileException(
          cgroups.root().toString(),
          null,
          "pod "
              + pod
              + " (uid "
              + pod.uid()
              + ") has no cgroup below it: the pod is not running on this node");
    }
    List<Path> written = new ArrayList<>();
    try {
      for (Path directory : directories) {
        write(pod, directory, "1");
        written.add(directory);
      }
      for (Path directory : directories) {
        if (!awaitFrozen(pod, directory, true)) {
          throw new IOException(
              "pod "
                  + pod
                  + " did not freeze within "
                  + timeout.toMillis()
                  + " ms: "
                  + directory.resolve("cgroup.events")
                  + " still says frozen 0 (a process "
                  + "may be stuck in uninterruptible sleep, e.g. in a device call); the pod was thawed "
                  + "again");
        }
      }
      LOG.info("pod {} frozen ({})", pod, directories);
    } catch (IOException | RuntimeException e) {
      undo(pod, written, e);
      throw e;
    }
  }

  @Override
  public void thaw(PodRef pod) throws IOException {
    List<Path> directories = cgroups.podDirectories(pod.uid());
    for (Path directory : directories) {
      try {
        write(pod, directory, "0");
      } catch (NoSuchFileException e) {
        if (Files.isDirectory(directory)) {
          throw e;
        }
        LOG.debug("pod {} ended before its thaw: {}", pod, e.getFile());
      }
    }
    for (Path directory : directories) {
      if (!awaitFrozen(pod, directory, false)) {
        throw new IOException(
            "pod "
                + pod
                + " did not thaw within "
                + timeout.toMillis()
                + " ms: "
                + directory.resolve("cgroup.events")
                + " still says frozen 1");
      }
    }
    LOG.info("pod {} thawed", pod);
  }

  /** Thaws after a failed freeze; what goes wrong here rides along with the first failure. */
  private void undo(PodRef pod, List<Path> directories, Exception failure) {
    for (Path directory : directories) {
      try {
        write(pod, directory, "0");
        if (!awaitFrozen(pod, directory, false)) {
          failure.addSuppressed(
              new IOException(
                  "pod "
                      + pod
                      + " still reports frozen 1 in "
                      + directory.resolve("cgroup.events")
                      + " after thawing"));
        }
      } catch (IOException e) {
        failure.addSuppressed(e);
      }
    }
  }

  private static void write(PodRef pod, Path directory, String value) throws IOException {
    Path file = directory.resolve("cgroup.freeze");
    try {
      // No CREATE: on cgroupfs a missing file means a kernel without the freezer or a gone pod.
      Files.writeString(
          file, value, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING);
    } catch (NoSuchFileException e) {
      throw new NoSuchFileException(
          file.toString(),
          null,
          "pod "
              + pod
              + ": cannot write "
              + value
              + " to "
              + file
              + ": "
              + (Files.isDirectory(directory)
                  ? "the kernel has no cgroup v2 freezer (Linux 5.2 and later have it)"
                  : "the pod's cgroup is gone"));
    } catch (IOException e) {
      throw new IOException("pod " + pod + ": cannot write " + value + " to " + file + ": " + e, e);
    }
  }

  /** What {@code cgroup.events} says. */
  private enum Observed {
    FROZEN,
    THAWED,
    GONE
  }

  /**
   * Polls until the cgroup is {@code frozen} (or thawed); false on timeout. A gone cgroup counts as
   * thawed.
   */
  private boolean awaitFrozen(PodRef pod, Path directory, boolean frozen) throws IOException {
    Path events = directory.resolve("cgroup.events");
    Observed wanted = frozen ? Observed.FROZEN : Observed.THAWED;
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      Observed now = observe(events);
      if (now == wanted || (now == Observed.GONE && !frozen)) {
        return true;
      }
      if (now == Observed.GONE) {
        throw new NoSuchFileException(
            events.toString(),
            null,
            "pod " + pod + ": the pod's cgroup went away while it was being frozen");
      }
      if (System.nanoTime() - deadline >= 0) {
        return false;
      }
      try {
        TimeUnit.NANOSECONDS.sleep(pollInterval.toNanos());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new InterruptedIOException(
            "pod "
                + pod
                + ": interrupted while waiting for "
                + events
                + " to say frozen "
                + (frozen ? 1 : 0));
      }
    }
  }

  private static Observed observe(Path events) throws IOException {
    List<String> lines;
    try {
      lines = Files.readAllLines(events);
    } catch (NoSuchFileException e) {
      return Observed.GONE;
    }
    for (String line : lines) {
      if (line.startsWith("frozen ")) {
        return line.substring("frozen ".length()).trim().equals("1")
            ? Observed.FROZEN
            : Observed.THAWED;
      }
    }
    throw new IOException(
        events
            + " has no frozen key: the kernel has no cgroup v2 freezer "
            + "(Linux 5.2 and later have it)");
  }
}
