package dev.vfio.agent.tasks;

import dev.vfio.agent.journal.DeviceJournal;
import dev.vfio.agent.journal.JournalEntry;
import dev.vfio.agent.pods.PodRef;
import dev.vfio.agent.vfio.MigrationStateMachine;
import dev.vfio.agent.vfio.PeerDmaOrder;
import dev.vfio.api.v1alpha1.Reason;
import dev.vfio.api.v1alpha1.Stage;
import dev.vfio.api.v1alpha1.VfioNodeTask;
import dev.vfio.api.v1alpha1.VfioNodeTaskSpec;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Puts state into a pod's devices, the part a restore from blobs (Load) and the target of a live
 * migration (Receive) share; the counterpart of {@link StateCapture}. The target pod is checked and
 * its devices opened, each paired with the source device whose state it takes; the task is
 * journaled before the first device leaves RUNNING; every device goes to RESUMING; once the caller
 * wrote the state, every device goes to RUNNING (a Receive: to STOP first, where it waits for the
 * switchover), which is when each checks what it got. On any failure until then it undoes all of
 * it: every device reset to RUNNING without the state, partial or whole, the journal entry dropped.
 * Telling the pod how its restore went is the operator's (agents write no pod).
 */
final class StateRestore implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(StateRestore.class);
  private final DeviceJournal journal;
  private final TaskContext context;
  private final FailureClassifier classifier;
  private final TargetOptIn targetOptIn;
  private final PodRef pod;
  private final List<DeviceLoad> loads;
  private final Map<String, DeviceLoad> bySource;

  private StateRestore(
      DeviceJournal journal,
      TaskContext context,
      FailureClassifier classifier,
      TargetOptIn targetOptIn,
      PodRef pod,
      List<DeviceLoad> loads,
      Map<String, DeviceLoad> bySource) {
    this.journal = journal;
    this.context = context;
    this.classifier = classifier;
    this.targetOptIn = targetOptIn;
    this.pod = pod;
    this.loads = loads;
    this.bySource = bySource;
  }

  /**
   * Opens the target devices of the context's task, touching none of them.
   *
   * @throws TaskFailure InvalidSpec if the task names a device twice or leaves one unpaired;
   *     another reason if the pod or a device is no longer what the operator saw
   */
  static StateRestore open(
      PodDevices podDevices,
      DeviceJournal journal,
      TaskContext context,
      FailureClassifier classifier)
      throws TaskFailure {
    VfioNodeTaskSpec spec = context.task().getSpec();
    DeviceMap map = DeviceMap.of(spec).requireTargets(spec.getDevices());
    PodRef pod = podDevices.currentPod(context.task(), Reason.TARGET_POD_CHANGED);
    List<DeviceLoad> loads =
        podDevices.open(
            pod,
            spec.getDevices(),
            classifier,
            (inventory, device, machine) -> new DeviceLoad(inventory, device, machine, context));
    Map<String, DeviceLoad> bySource = new LinkedHashMap<>();
    for (DeviceLoad load : loads) {
      bySource.put(map.sourceOf(load.address()), load);
    }
    return new StateRestore(
        journal,
        context,
        classifier,
        podDevices.targetOptIn(),
        pod,
        loads,
        Collections.unmodifiableMap(bySource));
  }

  List<DeviceLoad> loads() {
    return loads;
  }

  /** The target devices, in the task's order, by the source device whose state each takes. */
  Map<String, DeviceLoad> bySource() {
    return bySource;
  }

  /**
   * Journals the task, then takes every device to RESUMING, all of them first to RUNNING_P2P (the
   * target pod runs: none may stop answering a peer that still initiates DMA); a task cancelled by
   * now, or whose pod no longer opts in as a restore target, stops first.
   */
  void begin() throws IOException, TaskFailure {
    context.checkpoint();
    targetOptIn.require(pod);
    VfioNodeTask task = context.task();
    journal.record(
        new JournalEntry(
            task.getMetadata().getNamespace(),
            task.getMetadata().getName(),
            task.getMetadata().getUid(),
            pod.namespace(),
            pod.name(),
            pod.uid(),
            task.getSpec().getDevices(),
            false,
            null,
            null,
            context.task().getSpec().getOperation()));
    PeerDmaOrder.beforeStopping(machines());
    for (DeviceLoad load : loads) {
      load.begin();
    }
  }

  /**
   * The state is written: every device leaves RESUMING for STOP, checking and taking it without
   * running it, where a Receive waits for the switchover.
   */
  void load() throws IOException {
    for (DeviceLoad load : loads) {
      load.load();
    }
  }

  /** Every device goes to RUNNING with the state, checking it if it is still in RESUMING. */
  void resume() throws IOException {
    context.stage(Stage.Resuming);
    PeerDmaOrder.beforeRunning(machines());
    for (DeviceLoad load : loads) {
      load.finish();
    }
    context.resumedAt(context.clock().instant());
  }

  private List<MigrationStateMachine> machines() {
    return loads.stream().map(DeviceLoad::machine).toList();
  }

  /** The devices run the state and the task says so: the journal has nothing left to undo. */
  void forget() throws IOException {
    journal.remove(context.task().getMetadata().getUid());
  }

  /** The devices run the state: the task succeeds (the operator tells the pod). */
  void succeed() {
    context.succeed(loads.stream().map(DeviceLoad::result).toList(), null);
  }

  /**
   * Every device back to RUNNING, the journal entry dropped; returns the failure {@code e} means,
   * told what was undone.
   */
  TaskFailure rollBack(Exception e) {
    TaskFailure cause = classifier.classify(e, context.stopReason());
    List<String> done = new ArrayList<>();
    for (DeviceLoad load : loads) {
      done.add(load.rollBack());
    }
    try {
      journal.remove(context.task().getMetadata().getUid());
    } catch (IOException removal) {
      // The entry stays: the next start's replay is harmless on RUNNING devices.
      LOG.warn(
          "could not remove journal entry of {}: {}",
          context.task().getMetadata().getName(),
          removal.getMessage());
    }
    LOG.info("rolled back: {}", done);
    return new TaskFailure(
        cause.reason(),
        cause.getMessage() + "; target rolled back: " + String.join("; ", done),
        cause);
  }

  @Override
  public void close() {
    PodDevices.closeAll(loads);
  }
}
