package dev.vfio.agent.journal;

import dev.vfio.agent.NodeBackend;
import dev.vfio.agent.blobs.BlobStore;
import dev.vfio.agent.pods.HeldDevice;
import dev.vfio.agent.pods.PodRef;
import dev.vfio.agent.vfio.MigrationDevice;
import dev.vfio.agent.vfio.MigrationStateMachine;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Run once at agent start, before any new task: for every task a previous agent process left
 * unfinished, returns its devices to RUNNING, thaws its pod and removes its temporary blobs.
 * Returns what it did, so that the caller can fail the interrupted tasks with a message that says so.
 */
public final class JournalReplay {
  private static final Logger LOG = LoggerFactory.getLogger(JournalReplay.class);
  private final DeviceJournal journal;
  private final NodeBackend backend;
  private final BlobStore blobs;

  public JournalReplay(DeviceJournal journal, NodeBackend backend, BlobStore blobs) {
    this.journal = journal;
    this.backend = backend;
    this.blobs = blobs;
  }

  /** What replay did for one interrupted task. */
  public record Replayed(JournalEntry entry, List<String> actions) {}

  public List<Replayed> replay() throws IOException {
    List<Replayed> replayed = new ArrayList<>();
    for (JournalEntry entry : journal.pending()) {
      List<String> actions = new ArrayList<>();
      PodRef pod = new PodRef(entry.podNamespace(), entry.podName(), entry.podUid(), Map.of());
      Map<String, HeldDevice> held = holders(pod);
      for (String address : entry.devices()) {
        try (MigrationDevice device = backend.access().open(held.getOrDefault(address, HeldDevice.unheld(address)));
            MigrationStateMachine machine = MigrationStateMachine.probe(device)) {
          actions.add(address + ": " + machine.recoverToRunning().describe());
        } catch (IOException e) {
          actions.add(address + ": could not return to RUNNING: " + e.getMessage());
        }
      }
      if (entry.frozen()) {
        backend.quiescer().thaw(pod);
        actions.add("pod " + pod + " thawed");
      }
      if (entry.storageClaim() != null && entry.blobDirectory() != null) {
        String[] parts = entry.blobDirectory().split("/");
        if (parts.length == 2 && blobs.claims().contains(entry.storageClaim())) {
          int removed = blobs.deleteTemporaryFiles(entry.storageClaim(), parts[0], parts[1]);
          if (removed > 0) {
            actions.add(removed + " partial blob(s) removed");
          }
        }
      }
      LOG.info("replayed journal of task {}/{}: {}", entry.taskNamespace(), entry.taskName(), actions);
      journal.remove(entry.taskUid());
      replayed.add(new Replayed(entry, actions));
    }
    return replayed;
  }

  /** Where the pod's processes hold the devices now; a device no process holds is opened directly. */
  private Map<String, HeldDevice> holders(PodRef pod) {
    Map<String, HeldDevice> held = new java.util.HashMap<>();
    try {
      backend.resolver().resolve(pod).forEach(device -> held.put(device.address(), device));
    } catch (IOException e) {
      LOG.warn("could not resolve the devices of pod {}: {}", pod, e.getMessage());
    }
    return held;
  }
}
