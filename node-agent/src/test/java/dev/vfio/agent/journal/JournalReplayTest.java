package dev.vfio.agent.journal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vfio.agent.NodeBackend;
import dev.vfio.agent.blobs.BlobStore;
import dev.vfio.agent.freeze.Quiescer;
import dev.vfio.agent.pods.HeldDevice;
import dev.vfio.agent.pods.PodRef;
import dev.vfio.agent.sim.SimulatedBackend;
import dev.vfio.agent.sim.SimulatedFreezer;
import dev.vfio.agent.tasks.TaskStore;
import dev.vfio.agent.vfio.MigrationState;
import dev.vfio.api.v1alpha1.TaskOperation;
import dev.vfio.api.v1alpha1.VfioNodeTask;
import dev.vfio.api.v1alpha1.VfioNodeTaskStatus;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JournalReplayTest {
  static final String DEVICE = "0000:3b:00.0";
  static final String OTHER_DEVICE = "0000:5e:00.0";
  static final PodRef POD = new PodRef("default", "gpu-workload", "pod-uid", Map.of());
  static final PodRef OTHER_POD =
      new PodRef("default", "other-workload", "other-pod-uid", Map.of());

  @TempDir Path work;
  Path devices;
  BlobStore blobs;
  DeviceJournal journal;

  /** The tasks of Save entries: replay reads none of them. */
  static final TaskStore NO_TASKS =
      new TaskStore() {
        @Override
        public VfioNodeTask read(VfioNodeTask task) {
          throw new AssertionError("replay of a Save entry read its task");
        }

        @Override
        public boolean writeIfUnchanged(VfioNodeTask seen, VfioNodeTaskStatus status) {
          throw new AssertionError("replay of a Save entry wrote its task");
        }
      };

  JournalReplay replay(NodeBackend backend) {
    return new JournalReplay(journal, backend, blobs, NO_TASKS, Clock.systemUTC());
  }

  @BeforeEach
  void setUp() throws IOException {
    devices = work.resolve("devices.json");
    Files.writeString(
        devices,
        "[{\"address\": \""
            + DEVICE
            + "\", \"stateBytes\": 65536},"
            + " {\"address\": \""
            + OTHER_DEVICE
            + "\", \"stateBytes\": 65536}]");
    blobs = new BlobStore(Map.of("vfio-snapshots", Files.createDirectories(work.resolve("claim"))));
    journal = new DeviceJournal(work.resolve("journal"));
  }

  /**
   * What a crashed agent leaves: the pod's device in STOP_COPY, the pod frozen, the journal entry.
   */
  void crashedWhileSaving(String taskUid, PodRef pod, String device) throws IOException {
    NodeBackend crashed = SimulatedBackend.create(devices, work.resolve("sim"));
    crashed.access().open(HeldDevice.unheld(device)).setState(MigrationState.STOP_COPY);
    crashed.quiescer().freeze(pod);
    journal.record(
        new JournalEntry(
            "default",
            taskUid + "-save",
            taskUid,
            pod.namespace(),
            pod.name(),
            pod.uid(),
            List.of(device),
            true,
            null,
            null,
            TaskOperation.Save));
  }

  NodeBackend restarted() throws IOException {
    return SimulatedBackend.create(devices, work.resolve("sim"));
  }

  MigrationState state(NodeBackend backend, String device) throws IOException {
    return backend.access().open(HeldDevice.unheld(device)).state();
  }

  boolean frozen(PodRef pod) throws IOException {
    return new SimulatedFreezer(work.resolve("sim")).isFrozen(pod.uid());
  }

  @Test
  void replayReturnsAJournaledDeviceToRunningThawsThePodAndRemovesPartialBlobs() throws Exception {
    NodeBackend crashed = SimulatedBackend.create(devices, work.resolve("sim"));
    crashed.access().open(HeldDevice.unheld(DEVICE)).setState(MigrationState.STOP_COPY);
    crashed.quiescer().freeze(POD);
    Path partial =
        Files.createDirectories(work.resolve("claim/default/snap"))
            .resolve("." + DEVICE + ".vfs.tmp-0123456789abcdef");
    Files.writeString(partial, "torn");
    journal.record(
        new JournalEntry(
            "default",
            "snap-save",
            "task-uid",
            "default",
            "gpu-workload",
            "pod-uid",
            List.of(DEVICE),
            true,
            "vfio-snapshots",
            "default/snap",
            TaskOperation.Save));

    NodeBackend restarted = restarted();
    List<JournalReplay.Replayed> replayed = replay(restarted).replay();

    assertEquals(MigrationState.RUNNING, state(restarted, DEVICE));
    assertFalse(frozen(POD));
    assertFalse(Files.exists(partial));
    assertEquals(List.of(), journal.pending(), "a replayed entry is removed");
    assertEquals(List.of(), journal.quarantine().list(), "nothing is set aside");
    assertEquals(1, replayed.size());
    assertEquals("task-uid", replayed.get(0).taskUid());
    assertTrue(
        replayed.get(0).actions().stream()
            .anyMatch(a -> a.contains(DEVICE) && a.contains("RUNNING")),
        replayed.get(0).actions().toString());
  }

  @Test
  void aTornEntryIsSetAsideAndTheGoodEntryNextToItIsStillReplayed() throws Exception {
    Path torn = work.resolve("journal/a-torn-task.json");
    Files.writeString(torn, "{\"taskNamespace\": \"default\", \"devices\": [\"0000:");
    crashedWhileSaving("b-good-task", POD, DEVICE);

    NodeBackend restarted = restarted();
    List<JournalReplay.Replayed> replayed = replay(restarted).replay();

    assertEquals(MigrationState.RUNNING, state(restarted, DEVICE), "the good entry was replayed");
    assertFalse(frozen(POD));
    assertFalse(Files.exists(torn));
    assertEquals(
        "{\"taskNamespace\": \"default\", \"devices\": [\"0000:",
        Files.readString(work.resolve("journal/quarantine/a-torn-task.json")),
        "kept as it was, as evidence");
    List<JournalQuarantine.SetAside> setAside = journal.quarantine().list();
    assertEquals(
        List.of("a-torn-task.json"),
        setAside.stream().map(JournalQuarantine.SetAside::file).toList());
    assertTrue(
        setAside.get(0).reason().startsWith("its journal entry is unreadable: "),
        setAside.get(0).reason());
    assertEquals(
        List.of("a-torn-task", "b-good-task"),
        replayed.stream().map(JournalReplay.Replayed::taskUid).toList());
    assertTrue(
        replayed
            .get(0)
            .actions()
            .contains(
                "its journal entry was set aside for an admin (listed on the node's VfioNode)"),
        replayed.get(0).actions().toString());
    assertEquals(List.of(), journal.stored(), "the next start replays neither");
  }

  @Test
  void anEntryThatDoesNotNameItsPodIsSetAsideAsIncomplete() throws Exception {
    Files.writeString(
        work.resolve("journal/task-uid.json"), "{\"taskUid\": \"task-uid\", \"devices\": []}");

    replay(restarted()).replay();

    assertEquals(
        List.of("its journal entry is incomplete: it lacks its pod"),
        journal.quarantine().list().stream().map(JournalQuarantine.SetAside::reason).toList());
  }

  @Test
  void anEntryWithAFieldOnlyANewerAgentKnowsIsStillReplayed() throws Exception {
    Files.writeString(
        work.resolve("journal/task-uid.json"),
        """
        {"taskNamespace": "default", "taskName": "t", "taskUid": "task-uid", "podNamespace": "default",
         "podName": "gpu-workload", "podUid": "pod-uid", "devices": [], "frozen": false, "lanes": 4}
        """);

    List<JournalReplay.Replayed> replayed = replay(restarted()).replay();

    assertEquals(List.of(new JournalReplay.Replayed("task-uid", List.of())), replayed);
    assertEquals(List.of(), journal.quarantine().list());
    assertEquals(List.of(), journal.stored());
  }

  @Test
  void aFailedThawOfOnePodDoesNotStopTheReplayOfTheOthers() throws Exception {
    crashedWhileSaving("a-stuck-task", POD, DEVICE);
    crashedWhileSaving("b-other-task", OTHER_POD, OTHER_DEVICE);
    NodeBackend sim = restarted();
    Quiescer stuck =
        new Quiescer() {
          @Override
          public void freeze(PodRef pod) throws IOException {
            sim.quiescer().freeze(pod);
          }

          @Override
          public void thaw(PodRef pod) throws IOException {
            if (pod.uid().equals(POD.uid())) {
              throw new IOException("pod default/gpu-workload did not thaw within 10000 ms");
            }
            sim.quiescer().thaw(pod);
          }
        };
    NodeBackend restarted =
        new NodeBackend(sim.name(), sim.inventory(), sim.resolver(), sim.access(), stuck);

    List<JournalReplay.Replayed> replayed = replay(restarted).replay();

    assertEquals(
        MigrationState.RUNNING, state(sim, DEVICE), "a failed thaw does not skip the devices");
    assertEquals(MigrationState.RUNNING, state(sim, OTHER_DEVICE));
    assertTrue(frozen(POD));
    assertFalse(frozen(OTHER_POD), "the entry after the failed one was replayed");
    assertEquals(
        List.of("a-stuck-task.json"),
        journal.quarantine().list().stream().map(JournalQuarantine.SetAside::file).toList());
    assertEquals(
        "could not thaw pod default/gpu-workload: pod default/gpu-workload did not thaw within 10000 ms",
        journal.quarantine().list().get(0).reason());
    assertEquals(List.of(), journal.stored());
    assertTrue(
        replayed
            .get(0)
            .actions()
            .contains(
                "could not thaw pod default/gpu-workload: pod default/gpu-workload did not thaw within 10000 ms"),
        replayed.get(0).actions().toString());
    assertTrue(
        replayed.get(1).actions().contains("pod default/other-workload thawed"),
        replayed.get(1).actions().toString());
  }

  @Test
  void anEntrySetAsideTwiceUnderOneNameKeepsBoth() throws Exception {
    JournalEntry entry =
        new JournalEntry(
            "ns",
            "t",
            "uid-1",
            "ns",
            "p",
            "pod-uid",
            List.of(DEVICE),
            false,
            null,
            null,
            TaskOperation.Save);
    journal.record(entry);
    journal.setAside("uid-1.json", "first");
    journal.record(entry);
    journal.setAside("uid-1.json", "second");

    assertEquals(
        List.of("first", "second"),
        journal.quarantine().list().stream()
            .map(JournalQuarantine.SetAside::reason)
            .sorted()
            .toList());
    assertEquals(
        2,
        journal.quarantine().list().stream()
            .map(JournalQuarantine.SetAside::file)
            .distinct()
            .count());
  }

  @Test
  void journalSurvivesARestartOfTheProcessThatWroteIt() throws Exception {
    DeviceJournal writer = new DeviceJournal(work.resolve("journal"));
    JournalEntry entry =
        new JournalEntry(
            "ns",
            "t",
            "uid-1",
            "ns",
            "p",
            "pod-uid",
            List.of(DEVICE),
            false,
            "c",
            "ns/s",
            TaskOperation.Save);
    writer.record(entry);
    writer.record(entry.withFrozen(true));

    assertEquals(
        List.of(entry.withFrozen(true)), new DeviceJournal(work.resolve("journal")).pending());
  }
}
