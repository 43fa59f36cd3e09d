package dev.vfio.agent.tasks;

import dev.vfio.agent.blobs.BlobOutput;
import dev.vfio.agent.blobs.BlobSummary;
import dev.vfio.agent.inventory.InventoryDevice;
import dev.vfio.agent.vfio.MigrationDevice;
import dev.vfio.agent.vfio.MigrationState;
import dev.vfio.agent.vfio.MigrationStateMachine;
import dev.vfio.agent.vfio.PrecopyRound;
import dev.vfio.api.v1alpha1.DeviceResult;
import dev.vfio.api.v1alpha1.PrecopySpec;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;

/**
 * The save of one device into one blob or one stream to a peer: optional PRE_COPY rounds while the
 * workload runs, then STOP_COPY to the end of the stream. PRE_COPY and STOP_COPY are one session,
 * so the blob holds one stream that a RESUMING device takes back in one piece.
 */
final class DeviceSave implements AutoCloseable {

  private final InventoryDevice inventory;
  private final MigrationDevice device;
  private final MigrationStateMachine machine;
  private final BlobOutput output;
  private final TaskContext context;
  private PrecopyPhase precopy;
  private BlobSummary summary;

  DeviceSave(
      InventoryDevice inventory,
      MigrationDevice device,
      MigrationStateMachine machine,
      BlobOutput output,
      TaskContext context) {
    this.inventory = inventory;
    this.device = device;
    this.machine = machine;
    this.output = output;
    this.context = context;
  }

  String address() {
    return device.address();
  }

  MigrationState state() throws IOException {
    return machine.state();
  }

  /** MIG_DATA_SIZE where the kernel has it; only an estimate for progress, 0 when unknown. */
  long estimatedBytes() {
    try {
      return device.stopCopySize().orElse(0);
    } catch (IOException e) {
      return 0;
    }
  }

  boolean usesPrecopy(PrecopySpec precopy) {
    return PrecopySpec.enabled(precopy) && machine.flags().preCopy();
  }

  /**
   * While the workload still runs: iterate PRE_COPY until the device may switch over ({@link
   * PrecopyPhase}: its initial data sent, re-sent after a REINIT, and little pending or the rounds
   * run out), telling the task status after each round.
   */
  void precopy(PrecopySpec spec) throws IOException, TaskFailure {
    machine.transition(MigrationState.PRE_COPY);
    precopy = new PrecopyPhase(PrecopySpec.maxRounds(spec), PrecopySpec.thresholdBytes(spec));
    do {
      context.checkpoint();
      Instant start = context.clock().instant();
      PrecopyRound round = machine.readPrecopy(output, Long.MAX_VALUE, this::counted);
      precopy.record(round, Duration.between(start, context.clock().instant()));
      context.precopy(address(), precopy.progress());
    } while (!precopy.switchoverReady());
  }

  boolean p2p() {
    return machine.flags().p2p();
  }

  MigrationStateMachine machine() {
    return machine;
  }

  /** See {@link MigrationStateMachine#answerPeerDma}: a rollback, before any device runs again. */
  void answerPeerDma() throws IOException {
    machine.answerPeerDma();
  }

  /** With the workload quiesced: the rest of the state, to the permanent end of the stream. */
  void stopCopy() throws IOException, TaskFailure {
    context.checkpoint();
    machine.transition(MigrationState.STOP_COPY);
    machine.readToEnd(output, this::counted);
    summary = output.commit();
  }

  int precopyRounds() {
    return precopy == null ? 0 : precopy.rounds();
  }

  private void counted(int bytes) throws TaskStoppedException {
    context.addBytes(bytes);
    TaskFailure stop = context.stopReason();
    if (stop != null) {
      // Checked on every chunk so that a cancel or a deadline stops a long stream promptly.
      throw new TaskStoppedException(stop);
    }
  }

  /**
   * After the save: back to RUNNING, or to STOP with the session closed when the user keeps it
   * stopped.
   */
  void finish(boolean resume) throws IOException {
    machine.transition(resume ? MigrationState.RUNNING : MigrationState.STOP);
  }

  DeviceResult result(String blobPath) {
    DeviceResult result = DeviceResults.of(device.address(), inventory, machine);
    if (summary != null) {
      result.setBytes(summary.stateBytes());
      result.setSha256(summary.sha256Hex());
      result.setBlobPath(blobPath);
    }
    if (precopyRounds() > 0) {
      result.setPrecopyRounds(precopyRounds());
    }
    return result;
  }

  /** Undoes what is not committed: the partial blob is dropped, the device returns to RUNNING. */
  String rollBack() {
    StringBuilder what = new StringBuilder();
    try {
      output.abort();
    } catch (IOException e) {
      what.append("could not discard the partial state of ")
          .append(device.address())
          .append(": ")
          .append(e.getMessage())
          .append("; ");
    }
    try {
      what.append(device.address()).append(": ").append(machine.recoverToRunning().describe());
    } catch (IOException e) {
      what.append(device.address())
          .append(": could not return to RUNNING: ")
          .append(e.getMessage());
    }
    return what.toString();
  }

  /** Gives up before the device was touched: the empty blob is dropped, everything closed. */
  void discard() {
    try {
      output.abort();
    } catch (IOException e) {
      // Only an empty temporary file can be left; the blob directory's cleanup removes it.
    }
    close();
  }

  @Override
  public void close() {
    machine.close();
    device.close();
    try {
      output.close();
    } catch (IOException e) {
      // Nothing to add: rollBack already reported a failure to drop a partial blob.
    }
  }
}
