package dev.vfio.agent.journal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vfio.agent.NodeBackend;
import dev.vfio.agent.blobs.BlobStore;
import dev.vfio.agent.pods.PodRef;
import dev.vfio.agent.sim.SimulatedBackend;
import dev.vfio.agent.sim.SimulatedFreezer;
import dev.vfio.agent.vfio.MigrationState;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JournalReplayTest {
  static final String DEVICE = "0000:3b:00.0";

  @TempDir
  Path work;

  @Test
  void replayReturnsAJournaledDeviceToRunningThawsThePodAndRemovesPartialBlobs() throws Exception {
    Path devices = work.resolve("devices.json");
    Files.writeString(devices, "[{\"address\": \"" + DEVICE + "\", \"stateBytes\": 65536}]");
    Path claim = Files.createDirectories(work.resolve("claim"));
    BlobStore blobs = new BlobStore(Map.of("vfio-snapshots", claim));
    DeviceJournal journal = new DeviceJournal(work.resolve("journal"));
    PodRef pod = new PodRef("default", "gpu-workload", "pod-uid", Map.of());
    // What a crashed agent leaves: a device in STOP_COPY, the pod frozen, a temporary blob, the journal entry.
    NodeBackend crashed = SimulatedBackend.create(devices, work.resolve("sim"));
    crashed.access().open(dev.vfio.agent.pods.HeldDevice.unheld(DEVICE)).setState(MigrationState.STOP_COPY);
    crashed.quiescer().freeze(pod);
    Path partial = Files.createDirectories(claim.resolve("default/snap")).resolve("." + DEVICE + ".vfs.tmp-0123456789abcdef");
    Files.writeString(partial, "torn");
    journal.record(new JournalEntry("default", "snap-save", "task-uid", "default", "gpu-workload", "pod-uid",
        List.of(DEVICE), true, "vfio-snapshots", "default/snap"));

    NodeBackend restarted = SimulatedBackend.create(devices, work.resolve("sim"));
    List<JournalReplay.Replayed> replayed = new JournalReplay(journal, restarted, blobs).replay();

    assertEquals(MigrationState.RUNNING,
        restarted.access().open(dev.vfio.agent.pods.HeldDevice.unheld(DEVICE)).state());
    assertFalse(new SimulatedFreezer(work.resolve("sim")).isFrozen("pod-uid"));
    assertFalse(Files.exists(partial));
    assertEquals(List.of(), journal.pending(), "a replayed entry is removed");
    assertEquals(1, replayed.size());
    assertTrue(replayed.get(0).actions().stream().anyMatch(a -> a.contains(DEVICE) && a.contains("RUNNING")),
        replayed.get(0).actions().toString());
  }

  @Test
  void journalSurvivesARestartOfTheProcessThatWroteIt() throws Exception {
    DeviceJournal writer = new DeviceJournal(work.resolve("journal"));
    JournalEntry entry = new JournalEntry("ns", "t", "uid-1", "ns", "p", "pod-uid", List.of(DEVICE), false, "c", "ns/s");
    writer.record(entry);
    writer.record(entry.withFrozen(true));

    assertEquals(List.of(entry.withFrozen(true)), new DeviceJournal(work.resolve("journal")).pending());
  }
}
