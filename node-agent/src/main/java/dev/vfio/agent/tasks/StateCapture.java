package dev.vfio.agent.tasks;

import dev.vfio.agent.freeze.Quiescer;
import dev.vfio.agent.journal.DeviceJournal;
import dev.vfio.agent.journal.JournalEntry;
import dev.vfio.agent.pods.PodRef;
import dev.vfio.agent.vfio.MigrationStateMachine;
import dev.vfio.agent.vfio.PeerDmaOrder;
import dev.vfio.api.v1alpha1.PrecopySpec;
import dev.vfio.api.v1alpha1.QuiesceMode;
import dev.vfio.api.v1alpha1.Reason;
import dev.vfio.api.v1alpha1.Stage;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Takes the state out of a pod's devices, the part a snapshot and a live migration share: journal
 * first, PRE_COPY rounds while the workload runs (devices in parallel), the pod frozen, STOP_COPY
 * of every device in parallel to the end of its stream. On failure it undoes all of it. {@link
 * StateRestore} is its counterpart on the side that takes the state in.
 */
final class StateCapture implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(StateCapture.class);
  private final Quiescer quiescer;
  private final DeviceJournal journal;
  private final TaskContext context;
  private final PodRef pod;
  private final List<DeviceSave> saves;
  private final ExecutorService lanes;
  private final FailureClassifier classifier;
  private JournalEntry entry;
  private boolean frozen;

  /** {@code classifier} names the cause of a failure, which depends on where the state goes. */
  StateCapture(
      Quiescer quiescer,
      DeviceJournal journal,
      TaskContext context,
      PodRef pod,
      List<DeviceSave> saves,
      JournalEntry entry,
      FailureClassifier classifier) {
    this.classifier = classifier;
    this.quiescer = quiescer;
    this.journal = journal;
    this.context = context;
    this.pod = pod;
    this.saves = saves;
    this.entry = entry;
    this.lanes =
        Executors.newFixedThreadPool(
            Math.max(1, saves.size()),
            r -> {
              Thread thread = new Thread(r, "capture-" + entry.taskName());
              thread.setDaemon(true);
              return thread;
            });
  }

  /**
   * Runs the capture; returns when the first device left RUNNING, where downtime starts. Devices
   * stop as QEMU stops them: every device stops initiating peer-to-peer DMA (RUNNING_P2P or
   * PRE_COPY_P2P) before any stops answering it.
   *
   * @throws TaskFailure DeviceNotMigratable, before anything is touched, for several devices of
   *     which one has no P2P states: they cannot be stopped without losing DMA between them
   */
  Instant capture(PrecopySpec precopy, QuiesceMode quiesce)
      throws TaskFailure, IOException, InterruptedException {
    List<String> withoutP2p =
        saves.stream().filter(s -> !s.p2p()).map(DeviceSave::address).toList();
    if (saves.size() > 1 && !withoutP2p.isEmpty()) {
      throw new TaskFailure(
          Reason.DEVICE_NOT_MIGRATABLE,
          "devices "
              + withoutP2p
              + " have no P2P migration states, so "
              + saves.size()
              + " devices cannot be stopped together without losing DMA between them; save them"
              + " one at a time (spec.devices) if they do no peer-to-peer DMA");
    }
    journal.record(entry);
    context.totalBytes(saves.stream().mapToLong(DeviceSave::estimatedBytes).sum());
    List<DeviceSave> precopying = saves.stream().filter(s -> s.usesPrecopy(precopy)).toList();
    if (!precopying.isEmpty()) {
      context.stage(Stage.Precopy);
      inParallel(precopying, save -> save.precopy(precopy));
      context.precopyRounds(
          precopying.stream().mapToInt(DeviceSave::precopyRounds).max().orElse(0));
    }
    if (quiesce != QuiesceMode.None) {
      context.stage(Stage.Quiescing);
      entry = entry.withFrozen(true);
      journal.record(entry);
      quiescer.freeze(pod);
      frozen = true;
    }
    Instant stopped = context.clock().instant();
    context.stoppedAt(stopped);
    context.stage(Stage.StopCopy);
    PeerDmaOrder.beforeStopping(machines());
    inParallel(saves, DeviceSave::stopCopy);
    return stopped;
  }

  /**
   * After the capture: every device RUNNING again, each answering peer-to-peer DMA before any
   * initiates it; or every device in STOP.
   */
  void finish(boolean resume) throws IOException {
    if (resume) {
      PeerDmaOrder.beforeRunning(machines());
    }
    for (DeviceSave save : saves) {
      save.finish(resume);
    }
  }

  private List<MigrationStateMachine> machines() {
    return saves.stream().map(DeviceSave::machine).toList();
  }

  void thaw() throws IOException {
    if (frozen) {
      quiescer.thaw(pod);
      frozen = false;
    }
  }

  /** The work is done (devices running again, or deliberately left stopped): nothing to replay. */
  void forget() throws IOException {
    journal.remove(entry.taskUid());
  }

  /**
   * Every device back to RUNNING, partial output discarded, the pod thawed; returns the failure
   * {@code failure} means, told what was undone.
   */
  TaskFailure rollBack(Exception failure) {
    TaskFailure cause = classifier.classify(failure, context.stopReason());
    List<String> done = new ArrayList<>();
    for (DeviceSave save : saves) {
      try {
        save.answerPeerDma();
      } catch (IOException e) {
        // The rollback below takes this device back by a reset if need be, and says so.
      }
    }
    for (DeviceSave save : saves) {
      done.add(save.rollBack());
    }
    try {
      thaw();
    } catch (IOException e) {
      done.add("could not thaw pod " + pod + ": " + e.getMessage());
    }
    try {
      forget();
    } catch (IOException e) {
      // The entry stays: the next agent start replays it, which is harmless on RUNNING devices.
      LOG.warn("could not remove journal entry of {}: {}", entry.taskName(), e.getMessage());
    }
    LOG.info("rolled back: {}", done);
    return new TaskFailure(
        cause.reason(), cause.getMessage() + "; rolled back: " + String.join("; ", done), cause);
  }

  private interface DeviceStep {
    void run(DeviceSave save) throws IOException, TaskFailure;
  }

  /**
   * Runs one step on every device at once (the devices of a pod are independent) and waits for all.
   */
  private void inParallel(List<DeviceSave> targets, DeviceStep step)
      throws IOException, TaskFailure, InterruptedException {
    List<Future<Void>> running = new ArrayList<>();
    for (DeviceSave save : targets) {
      running.add(
          lanes.submit(
              () -> {
                step.run(save);
                return null;
              }));
    }
    Exception first = null;
    for (Future<Void> future : running) {
      try {
        future.get();
      } catch (ExecutionException e) {
        if (first == null) {
          first = (Exception) e.getCause();
        }
      }
    }
    if (first instanceof TaskFailure failure) {
      throw failure;
    }
    if (first instanceof IOException io) {
      throw io;
    }
    if (first != null) {
      throw (RuntimeException) first;
    }
  }

  @Override
  public void close() {
    lanes.shutdownNow();
    saves.forEach(DeviceSave::close);
  }
}
