package dev.vfio.agent.freeze;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vfio.agent.fixtures.NodeFixture;
import dev.vfio.agent.pods.PodRef;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The fixture's {@code cgroup.events} does not change by itself: each test plays the kernel,
 * waiting with Awaitility for the freezer's write to {@code cgroup.freeze} and then reporting the
 * new state, so the freezer's wait is observed rather than assumed.
 */
class CgroupFreezerTest {
  static final String SYSTEMD_POD =
      "sys/fs/cgroup/kubepods.slice/kubepods-burstable.slice/"
          + "kubepods-burstable-pod7f3c2a10_5b1e_4c8f_9d2a_1e6b3c4d5e6f.slice";
  static final PodRef A10_VM =
      new PodRef("vms", "virt-launcher-a10-vm", "7f3c2a10-5b1e-4c8f-9d2a-1e6b3c4d5e6f", Map.of());

  @AutoClose NodeFixture node;
  ExecutorService agent;

  @BeforeEach
  void setUp() throws IOException {
    node = NodeFixture.build("node-a");
    agent = Executors.newSingleThreadExecutor();
  }

  @AfterEach
  void tearDown() throws InterruptedException {
    agent.shutdownNow();
    assertTrue(agent.awaitTermination(10, TimeUnit.SECONDS));
  }

  CompletableFuture<Void> inBackground(Action action) {
    return CompletableFuture.runAsync(
        () -> {
          try {
            action.run();
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        },
        agent);
  }

  interface Action {
    void run() throws IOException;
  }

  void awaitWritten(String podDirectory, String value) {
    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> node.read(podDirectory + "/cgroup.freeze").strip().equals(value));
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource({
    "systemd, 7f3c2a10-5b1e-4c8f-9d2a-1e6b3c4d5e6f, " + SYSTEMD_POD,
    "cgroupfs, c1d2e3f4-a5b6-47c8-9d0e-f1a2b3c4d5e6, "
        + "sys/fs/cgroup/kubepods/besteffort/podc1d2e3f4-a5b6-47c8-9d0e-f1a2b3c4d5e6",
  })
  void freezeWritesThePodCgroupAndReturnsOnlyOnceTheKernelReportsFrozen(
      String layout, String uid, String podDirectory) throws Exception {
    CgroupFreezer freezer = new CgroupFreezer(node.cgroup());
    CompletableFuture<Void> freeze =
        inBackground(() -> freezer.freeze(new PodRef("ns", "pod", uid, Map.of())));
    awaitWritten(podDirectory, "1");
    assertFalse(freeze.isDone(), "freeze returned before cgroup.events said frozen 1");
    node.write(podDirectory + "/cgroup.events", "populated 1\nfrozen 1\n");
    freeze.get(5, TimeUnit.SECONDS);
  }

  @Test
  void freezeLeavesTheContainerCgroupsToThePodCgroup() throws Exception {
    CgroupFreezer freezer = new CgroupFreezer(node.cgroup());
    CompletableFuture<Void> freeze = inBackground(() -> freezer.freeze(A10_VM));
    awaitWritten(SYSTEMD_POD, "1");
    node.write(SYSTEMD_POD + "/cgroup.events", "populated 1\nfrozen 1\n");
    freeze.get(5, TimeUnit.SECONDS);
    // The kernel propagates a pod's freeze to its containers; writing theirs too would leave them
    // frozen on their own after the pod's thaw.
    assertEquals(
        "0\n",
        node.read(
            SYSTEMD_POD
                + "/cri-containerd-"
                + "d98b52201b91aefc8db9acc0ddfd8fe0a0998426e9f169649ca0dfbb15e8c358.scope/cgroup.freeze"));
  }

  @Test
  void thawWritesZeroAndReturnsOnlyOnceTheKernelReportsThawed() throws Exception {
    node.write(SYSTEMD_POD + "/cgroup.freeze", "1\n");
    node.write(SYSTEMD_POD + "/cgroup.events", "populated 1\nfrozen 1\n");
    CgroupFreezer freezer = new CgroupFreezer(node.cgroup());
    CompletableFuture<Void> thaw = inBackground(() -> freezer.thaw(A10_VM));
    awaitWritten(SYSTEMD_POD, "0");
    assertFalse(thaw.isDone(), "thaw returned before cgroup.events said frozen 0");
    node.write(SYSTEMD_POD + "/cgroup.events", "populated 1\nfrozen 0\n");
    thaw.get(5, TimeUnit.SECONDS);
  }

  @Test
  void freezeThatNeverReportsFrozenThawsThePodAgainAndNamesThePodAndThePath() throws Exception {
    CgroupFreezer freezer =
        new CgroupFreezer(node.cgroup(), Duration.ofMillis(200), Duration.ofMillis(5));
    IOException e = assertThrows(IOException.class, () -> freezer.freeze(A10_VM));
    assertEquals(
        "pod vms/virt-launcher-a10-vm did not freeze within 200 ms: "
            + node.path(SYSTEMD_POD + "/cgroup.events")
            + " still says frozen 0 (a process may be "
            + "stuck in uninterruptible sleep, e.g. in a device call); the pod was thawed again",
        e.getMessage());
    assertEquals(0, e.getSuppressed().length);
    assertEquals("0", node.read(SYSTEMD_POD + "/cgroup.freeze"));
  }

  @Test
  void thawOfAPodThatIsNotFrozenReturnsAtOnce() throws Exception {
    // Journal replay thaws pods a crashed agent may never have frozen.
    new CgroupFreezer(node.cgroup()).thaw(A10_VM);
    assertEquals("0", node.read(SYSTEMD_POD + "/cgroup.freeze"));
  }

  @Test
  void thawOfAPodWhoseCgroupIsGoneReturnsAndWritesNothing() throws Exception {
    // The pod ended while frozen: nothing is left to thaw, and no cgroup file may be (re)created.
    node.remove(SYSTEMD_POD);
    Map<Path, String> before = cgroupFiles();

    new CgroupFreezer(node.cgroup()).thaw(A10_VM);

    assertEquals(before, cgroupFiles());
    assertFalse(Files.exists(node.path(SYSTEMD_POD)));
  }

  @Test
  void aSecondHolderOfAFrozenPodWritesNothingAndTheFirstThawLeavesThePodFrozen() throws Exception {
    SharedFreezer freezer = new SharedFreezer(new CgroupFreezer(node.cgroup()));
    CompletableFuture<Void> first = inBackground(() -> freezer.freeze(A10_VM));
    awaitWritten(SYSTEMD_POD, "1");
    node.write(SYSTEMD_POD + "/cgroup.events", "populated 1\nfrozen 1\n");
    first.get(5, TimeUnit.SECONDS);
    // Were the second freeze to write, it would wait for a kernel this test no longer plays.
    node.write(SYSTEMD_POD + "/cgroup.freeze", "1 (written by the first holder)");

    freezer.freeze(A10_VM);
    freezer.thaw(A10_VM);

    assertEquals(
        "1 (written by the first holder)",
        node.read(SYSTEMD_POD + "/cgroup.freeze"),
        "the pod stays frozen while the other operation holds it");
    CompletableFuture<Void> last = inBackground(() -> freezer.thaw(A10_VM));
    awaitWritten(SYSTEMD_POD, "0");
    node.write(SYSTEMD_POD + "/cgroup.events", "populated 1\nfrozen 0\n");
    last.get(5, TimeUnit.SECONDS);
  }

  @Test
  void aSecondHolderWaitsUntilTheKernelReportsThePodFrozen() throws Exception {
    SharedFreezer freezer = new SharedFreezer(new CgroupFreezer(node.cgroup()));
    ExecutorService second = Executors.newSingleThreadExecutor();
    try {
      CompletableFuture<Void> first = inBackground(() -> freezer.freeze(A10_VM));
      awaitWritten(SYSTEMD_POD, "1");
      CompletableFuture<Void> next =
          CompletableFuture.runAsync(
              () -> {
                try {
                  freezer.freeze(A10_VM);
                } catch (IOException e) {
                  throw new UncheckedIOException(e);
                }
              },
              second);
      assertFalse(next.isDone(), "a second holder returned before the pod was frozen");
      node.write(SYSTEMD_POD + "/cgroup.events", "populated 1\nfrozen 1\n");
      first.get(5, TimeUnit.SECONDS);
      next.get(5, TimeUnit.SECONDS);
    } finally {
      second.shutdownNow();
    }
  }

  @Test
  void aFreezeThatFailedHoldsNothingSoTheNextFreezeTriesAgain() throws Exception {
    SharedFreezer freezer =
        new SharedFreezer(
            new CgroupFreezer(node.cgroup(), Duration.ofMillis(100), Duration.ofMillis(5)));
    assertThrows(IOException.class, () -> freezer.freeze(A10_VM));
    node.write(SYSTEMD_POD + "/cgroup.freeze", "not written since");
    // Frozen before the retry asks, so the retry needs no deadline of its own to pass.
    node.write(SYSTEMD_POD + "/cgroup.events", "populated 1\nfrozen 1\n");

    freezer.freeze(A10_VM);

    assertEquals("1", node.read(SYSTEMD_POD + "/cgroup.freeze").strip());
  }

  Map<Path, String> cgroupFiles() throws IOException {
    Map<Path, String> files = new TreeMap<>();
    try (Stream<Path> paths = Files.walk(node.cgroup())) {
      for (Path file : paths.filter(Files::isRegularFile).toList()) {
        files.put(file, Files.readString(file));
      }
    }
    return files;
  }

  @Test
  void freezeOfAPodNotOnThisNodeNamesThePod() {
    PodRef elsewhere =
        new PodRef("ml", "elsewhere", "11111111-2222-4333-8444-555555555555", Map.of());
    IOException e =
        assertThrows(IOException.class, () -> new CgroupFreezer(node.cgroup()).freeze(elsewhere));
    assertEquals(
        node.cgroup()
            + ": pod ml/elsewhere (uid 11111111-2222-4333-8444-555555555555) "
            + "has no cgroup below it: the pod is not running on this node",
        e.getMessage());
  }

  @Test
  void kernelWithoutTheFreezerIsNamedWithThePath() throws Exception {
    Files.delete(node.path(SYSTEMD_POD + "/cgroup.freeze"));
    IOException e =
        assertThrows(IOException.class, () -> new CgroupFreezer(node.cgroup()).freeze(A10_VM));
    Path file = node.path(SYSTEMD_POD + "/cgroup.freeze");
    assertEquals(
        file
            + ": pod vms/virt-launcher-a10-vm: cannot write 1 to "
            + file
            + ": the "
            + "kernel has no cgroup v2 freezer (Linux 5.2 and later have it)",
        e.getMessage());
    assertEquals(0, e.getSuppressed().length, "nothing was frozen, so nothing is thawed");
  }
}
