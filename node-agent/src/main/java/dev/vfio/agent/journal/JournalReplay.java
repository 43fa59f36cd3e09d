package dev.vfio.agent.journal;

import dev.vfio.agent.NodeBackend;
import dev.vfio.agent.blobs.BlobStore;
import dev.vfio.agent.pods.HeldDevice;
import dev.vfio.agent.pods.PodRef;
import dev.vfio.agent.tasks.TaskStore;
import dev.vfio.agent.vfio.MigrationDevice;
import dev.vfio.agent.vfio.MigrationState;
import dev.vfio.agent.vfio.MigrationStateMachine;
import java.io.IOException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Run once at agent start, before any new task: for every task a previous agent process left
 * unfinished, returns its devices to RUNNING, thaws its pod and removes its temporary blobs.
 * Returns what it did, so that the caller can fail the interrupted tasks with a message that says
 * so.
 *
 * <p>One entry never stops the others, nor the agent's start: an entry that cannot be read, or
 * whose undo fails in any step, is set aside in the journal's quarantine with the reason — kept as
 * evidence of what may still be stopped, and reported on the node's VfioNode — and replay goes on.
 */
public final class JournalReplay {
  private static final Logger LOG = LoggerFactory.getLogger(JournalReplay.class);

  /** Before devices run again: every one answers peer-to-peer DMA before any initiates it. */
  private static final DeviceStep RUNNING_ORDER =
      machine -> {
        machine.answerPeerDma();
        return "";
      };

  /** A reset needs no order: the device comes back with no DMA in flight. */
  private static final DeviceStep NO_ORDER = machine -> "";

  private final DeviceJournal journal;
  private final NodeBackend backend;
  private final BlobStore blobs;
  private final SwitchoverReplay switchovers;

  /** {@code tasks} reads and ends the tasks of Send and Receive entries, whose undo they decide. */
  public JournalReplay(
      DeviceJournal journal, NodeBackend backend, BlobStore blobs, TaskStore tasks, Clock clock) {
    this.journal = journal;
    this.backend = backend;
    this.blobs = blobs;
    this.switchovers = new SwitchoverReplay(tasks, clock);
  }

  /** One device's step of an undo; returns what it did. */
  private interface DeviceStep {
    String apply(MigrationStateMachine machine) throws IOException;
  }

  /**
   * What replay did for one interrupted task; {@code taskUid} is null for an entry that names none.
   */
  public record Replayed(String taskUid, List<String> actions) {}

  /**
   * Replays every entry; throws only when the journal directory itself cannot be listed. Waits for
   * the API server as long as the task of a Send or Receive entry cannot be read.
   */
  public List<Replayed> replay() throws IOException, InterruptedException {
    List<Replayed> replayed = new ArrayList<>();
    for (DeviceJournal.Stored stored : journal.stored()) {
      List<String> actions = new ArrayList<>();
      List<String> failures = new ArrayList<>();
      if (stored instanceof DeviceJournal.Readable readable
          && readable.entry().awaitsSwitchover()) {
        switchover(readable.entry(), actions, failures);
      } else if (stored instanceof DeviceJournal.Readable readable) {
        undo(readable.entry(), actions, failures);
      } else {
        failures.add("its journal entry is " + ((DeviceJournal.Unreadable) stored).problem());
      }
      actions.addAll(failures);
      if (failures.isEmpty()) {
        LOG.info("replayed journal entry {}: {}", stored.fileName(), actions);
        remove(stored.taskUid());
      } else {
        actions.add(setAside(stored.fileName(), String.join("; ", failures)));
      }
      replayed.add(new Replayed(stored.taskUid(), actions));
    }
    return replayed;
  }

  /** The entry of a Send or a Receive: the operator's decision, settled first, says what to do. */
  private void switchover(JournalEntry entry, List<String> actions, List<String> failures)
      throws InterruptedException {
    switch (switchovers.settle(entry)) {
      case KEEP_STOPPED -> {
        actions.add("the switchover was committed: the source devices stay stopped");
        switchovers.succeeded(entry);
      }
      case RESUME -> undo(entry, actions, failures);
      case DISCARD ->
          eachDevice(
              entry,
              machine -> machine.discardToRunning(true).describe(),
              NO_ORDER,
              "could not be reset",
              actions,
              failures);
      case RUN -> {
        List<String> notRunning = new ArrayList<>();
        eachDevice(
            entry,
            machine -> {
              machine.transition(MigrationState.RUNNING);
              return "runs the migrated state (the switchover was committed)";
            },
            RUNNING_ORDER,
            "could not run the migrated state",
            actions,
            notRunning);
        if (notRunning.isEmpty()) {
          switchovers.succeeded(entry);
        } else {
          // Reset all of them: a target that half runs the state while the source resumes it
          // would be two copies of one workload.
          eachDevice(
              entry,
              machine -> machine.discardToRunning(true).describe(),
              NO_ORDER,
              "could not be reset",
              actions,
              failures);
          actions.addAll(notRunning);
          switchovers.failed(entry, String.join("; ", notRunning));
        }
      }
      case SET_ASIDE ->
          failures.add(
              "its task is gone, so whether the target runs the state is unknown: the source"
                  + " devices stay stopped and the pod frozen");
    }
  }

  /** Every step is tried whatever the others did; what fails goes to {@code failures}. */
  private void undo(JournalEntry entry, List<String> actions, List<String> failures) {
    PodRef pod =
        eachDevice(
            entry,
            machine -> machine.recoverToRunning().describe(),
            RUNNING_ORDER,
            "could not return to RUNNING",
            actions,
            failures);
    if (entry.frozen()) {
      try {
        backend.quiescer().thaw(pod);
        actions.add("pod " + pod + " thawed");
      } catch (IOException | RuntimeException e) {
        failures.add("could not thaw pod " + pod + ": " + e.getMessage());
      }
    }
    if (entry.storageClaim() != null && entry.blobDirectory() != null) {
      String[] parts = entry.blobDirectory().split("/");
      try {
        if (parts.length == 2 && blobs.claims().contains(entry.storageClaim())) {
          int removed = blobs.deleteTemporaryFiles(entry.storageClaim(), parts[0], parts[1]);
          if (removed > 0) {
            actions.add(removed + " partial blob(s) removed");
          }
        }
      } catch (IOException | RuntimeException e) {
        failures.add(
            "could not remove partial blobs in " + entry.blobDirectory() + ": " + e.getMessage());
      }
    }
  }

  /**
   * Runs {@code step} on each device of the entry, after {@code first} on all of them; returns the
   * entry's pod.
   */
  private PodRef eachDevice(
      JournalEntry entry,
      DeviceStep step,
      DeviceStep first,
      String failed,
      List<String> actions,
      List<String> failures) {
    PodRef pod = new PodRef(entry.podNamespace(), entry.podName(), entry.podUid(), Map.of());
    Map<String, HeldDevice> held = holders(pod);
    Map<String, MigrationDevice> devices = new LinkedHashMap<>();
    Map<String, MigrationStateMachine> machines = new LinkedHashMap<>();
    try {
      for (String address : entry.devices()) {
        try {
          MigrationDevice device =
              backend.access().open(held.getOrDefault(address, HeldDevice.unheld(address)));
          devices.put(address, device);
          machines.put(address, MigrationStateMachine.probe(device));
        } catch (IOException | RuntimeException e) {
          failures.add(address + ": " + failed + ": " + e.getMessage());
        }
      }
      for (MigrationStateMachine machine : machines.values()) {
        try {
          first.apply(machine);
        } catch (IOException | RuntimeException e) {
          // The step below takes this device on, by a reset if need be, and says so.
        }
      }
      for (Map.Entry<String, MigrationStateMachine> machine : machines.entrySet()) {
        try {
          actions.add(machine.getKey() + ": " + step.apply(machine.getValue()));
        } catch (IOException | RuntimeException e) {
          failures.add(machine.getKey() + ": " + failed + ": " + e.getMessage());
        }
      }
    } finally {
      machines.values().forEach(MigrationStateMachine::close);
      devices.values().forEach(MigrationDevice::close);
    }
    return pod;
  }

  private void remove(String taskUid) {
    try {
      journal.remove(taskUid);
    } catch (IOException e) {
      // Replaying it again at the next start is harmless: its devices run, its pod is thawed.
      LOG.warn(
          "could not remove the replayed journal entry of task {}: {}", taskUid, e.getMessage());
    }
  }

  /**
   * Sets the entry aside; if even that fails it stays in the journal, and the next start tries
   * again.
   */
  private String setAside(String fileName, String reason) {
    try {
      String name = journal.setAside(fileName, reason);
      LOG.warn(
          "set journal entry {} aside as {}/{}: {}",
          fileName,
          JournalQuarantine.DIRECTORY,
          name,
          reason);
      return "its journal entry was set aside for an admin (listed on the node's VfioNode)";
    } catch (IOException | RuntimeException e) {
      LOG.error(
          "could not set journal entry {} aside ({}); it stays in the journal: {}",
          fileName,
          reason,
          e.toString());
      return "its journal entry stays in the journal: it could not be set aside: " + e.getMessage();
    }
  }

  /**
   * Where the pod's processes hold the devices now; a device no process holds is opened directly.
   */
  private Map<String, HeldDevice> holders(PodRef pod) {
    Map<String, HeldDevice> held = new HashMap<>();
    try {
      backend.resolver().resolve(pod).forEach(device -> held.put(device.address(), device));
    } catch (IOException | RuntimeException e) {
      LOG.warn("could not resolve the devices of pod {}: {}", pod, e.getMessage());
    }
    return held;
  }
}
