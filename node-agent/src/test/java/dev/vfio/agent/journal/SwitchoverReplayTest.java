package dev.vfio.agent.journal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vfio.agent.NodeBackend;
import dev.vfio.agent.blobs.BlobStore;
import dev.vfio.agent.pods.HeldDevice;
import dev.vfio.agent.pods.PodRef;
import dev.vfio.agent.sim.SimulatedBackend;
import dev.vfio.agent.sim.SimulatedDevice;
import dev.vfio.agent.sim.SimulatedFreezer;
import dev.vfio.agent.tasks.InMemoryTaskStore;
import dev.vfio.agent.vfio.MigrationState;
import dev.vfio.api.v1alpha1.Reason;
import dev.vfio.api.v1alpha1.Stage;
import dev.vfio.api.v1alpha1.TaskOperation;
import dev.vfio.api.v1alpha1.TaskPhase;
import dev.vfio.api.v1alpha1.VfioNodeTask;
import dev.vfio.api.v1alpha1.VfioNodeTaskSpec;
import dev.vfio.api.v1alpha1.VfioNodeTaskStatus;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Replay of the entries a Send or a Receive leaves when its agent dies while it waits for the
 * switchover: the operator's decision, read from the task, says what happens to the devices.
 */
class SwitchoverReplayTest {
  static final String DEVICE = "0000:3b:00.0";
  static final PodRef POD = new PodRef("default", "workload", "pod-uid", Map.of());

  @TempDir Path work;
  Path devices;
  DeviceJournal journal;
  BlobStore blobs;

  @BeforeEach
  void setUp() throws IOException {
    devices = work.resolve("devices.json");
    Files.writeString(devices, "[{\"address\": \"" + DEVICE + "\", \"stateBytes\": 65536}]");
    blobs = new BlobStore(Map.of("claim", Files.createDirectories(work.resolve("claim"))));
    journal = new DeviceJournal(work.resolve("journal"));
  }

  /**
   * What a dead agent leaves at Sent or Loaded: the device stopped with its state, the source pod
   * frozen, the entry, and the task Running; returns the task, committed or not.
   */
  InMemoryTaskStore waitingAt(TaskOperation operation, boolean committed) throws IOException {
    NodeBackend crashed = SimulatedBackend.create(devices, work.resolve("sim"));
    crashed.access().open(HeldDevice.unheld(DEVICE)).setState(MigrationState.STOP);
    boolean send = operation == TaskOperation.Send;
    if (send) {
      crashed.quiescer().freeze(POD);
    }
    journal.record(
        new JournalEntry(
            "default",
            "m-" + operation.name().toLowerCase(),
            "task-uid",
            POD.namespace(),
            POD.name(),
            POD.uid(),
            List.of(DEVICE),
            send,
            null,
            null,
            operation));
    VfioNodeTask task = new VfioNodeTask();
    task.setMetadata(
        new ObjectMetaBuilder()
            .withNamespace("default")
            .withName("m-" + operation.name().toLowerCase())
            .withUid("task-uid")
            .build());
    VfioNodeTaskSpec spec = new VfioNodeTaskSpec();
    spec.setOperation(operation);
    spec.setNodeName("node-a");
    task.setSpec(spec);
    VfioNodeTaskStatus status = new VfioNodeTaskStatus();
    status.setPhase(TaskPhase.Running);
    status.setStage(send ? Stage.Sent : Stage.Loaded);
    task.setStatus(status);
    InMemoryTaskStore store = new InMemoryTaskStore(task);
    if (committed) {
      store.commit();
    }
    return store;
  }

  List<JournalReplay.Replayed> replay(NodeBackend backend, InMemoryTaskStore store)
      throws Exception {
    return new JournalReplay(journal, backend, blobs, store, Clock.systemUTC()).replay();
  }

  SimulatedDevice device(NodeBackend backend) throws IOException {
    return (SimulatedDevice) backend.access().open(HeldDevice.unheld(DEVICE));
  }

  boolean frozen() throws IOException {
    return new SimulatedFreezer(work.resolve("sim")).isFrozen(POD.uid());
  }

  @Test
  void aCommittedSendKeepsTheSourceStoppedAndFrozenAndSucceeds() throws Exception {
    InMemoryTaskStore store = waitingAt(TaskOperation.Send, true);

    NodeBackend restarted = SimulatedBackend.create(devices, work.resolve("sim"));
    replay(restarted, store);

    assertEquals(MigrationState.STOP, device(restarted).state());
    assertTrue(frozen(), "the source never runs again");
    assertEquals(TaskPhase.Succeeded, store.stored().getStatus().getPhase());
    assertEquals(List.of(), journal.pending());
  }

  @Test
  void anUncommittedSendFailsItsTaskFirstThenResumesTheSource() throws Exception {
    InMemoryTaskStore store = waitingAt(TaskOperation.Send, false);

    NodeBackend restarted = SimulatedBackend.create(devices, work.resolve("sim"));
    replay(restarted, store);

    assertEquals(MigrationState.RUNNING, device(restarted).state());
    assertFalse(frozen());
    VfioNodeTaskStatus ended = store.stored().getStatus();
    assertEquals(TaskPhase.Failed, ended.getPhase());
    assertEquals(Reason.AGENT_RESTARTED.wire(), ended.getReason());
    assertEquals(List.of(), journal.pending());
  }

  @Test
  void aSendWhoseTaskIsGoneKeepsTheSourceStoppedAndSetsTheEntryAside() throws Exception {
    InMemoryTaskStore store = waitingAt(TaskOperation.Send, false);
    store.delete();

    NodeBackend restarted = SimulatedBackend.create(devices, work.resolve("sim"));
    replay(restarted, store);

    assertEquals(MigrationState.STOP, device(restarted).state());
    assertTrue(frozen());
    assertEquals(1, journal.quarantine().list().size());
    assertTrue(
        journal.quarantine().list().get(0).reason().contains("whether the target runs"),
        journal.quarantine().list().get(0).reason());
  }

  @Test
  void aCommittedReceiveRunsTheStateItHoldsAndSucceeds() throws Exception {
    InMemoryTaskStore store = waitingAt(TaskOperation.Receive, true);
    NodeBackend restarted = SimulatedBackend.create(devices, work.resolve("sim"));
    long loaded = device(restarted).epoch();

    replay(restarted, store);

    assertEquals(MigrationState.RUNNING, device(restarted).state());
    assertEquals(loaded, device(restarted).epoch(), "it runs the state it held, not a reset one");
    VfioNodeTaskStatus ended = store.stored().getStatus();
    assertEquals(TaskPhase.Succeeded, ended.getPhase());
    assertTrue(ended.getResumedAt() != null, "the downtime has its end");
    assertEquals(List.of(), journal.pending());
  }

  @Test
  void anUncommittedReceiveFailsItsTaskFirstThenResetsTheTarget() throws Exception {
    InMemoryTaskStore store = waitingAt(TaskOperation.Receive, false);
    NodeBackend restarted = SimulatedBackend.create(devices, work.resolve("sim"));
    long loaded = device(restarted).epoch();

    replay(restarted, store);

    assertEquals(MigrationState.RUNNING, device(restarted).state());
    assertTrue(device(restarted).epoch() < loaded, "reset to power-on, the state never ran");
    assertEquals(TaskPhase.Failed, store.stored().getStatus().getPhase());
    assertNull(store.stored().getSpec().getSwitchover());
    assertEquals(List.of(), journal.pending());
  }
}
