package dev.vfio.agent.tasks;

import dev.vfio.agent.blobs.BlobSummary;
import dev.vfio.agent.inventory.InventoryDevice;
import dev.vfio.agent.vfio.ChunkSink;
import dev.vfio.agent.vfio.MigrationDevice;
import dev.vfio.agent.vfio.MigrationState;
import dev.vfio.agent.vfio.MigrationStateMachine;
import dev.vfio.agent.vfio.PrecopyRound;
import dev.vfio.api.v1alpha1.DeviceResult;
import dev.vfio.api.v1alpha1.PrecopySpec;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;

/**
 * The save of one device into one blob or one stream to a peer: optional PRE_COPY rounds while the workload runs, then
 * STOP_COPY to the end of the stream. PRE_COPY and STOP_COPY are one session, so the blob holds
 * one stream that a RESUMING device takes back in one piece.
 */
final class DeviceSave implements AutoCloseable {
  private static final int DEFAULT_MAX_ROUNDS = 5;
  private static final long DEFAULT_THRESHOLD = 1 << 20;

  private final InventoryDevice inventory;
  private final MigrationDevice device;
  private final MigrationStateMachine machine;
  private final StateOutput writer;
  private final TaskContext context;
  private PrecopyPhase precopy;
  private BlobSummary summary;

  DeviceSave(InventoryDevice inventory, MigrationDevice device, MigrationStateMachine machine,
      StateOutput writer, TaskContext context) {
    this.inventory = inventory;
    this.device = device;
    this.machine = machine;
    this.writer = writer;
    this.context = context;
  }

  String address() {
    return device.address();
  }

  StateOutput output() {
    return writer;
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
    boolean enabled = precopy == null || precopy.getEnabled() == null || precopy.getEnabled();
    return enabled && machine.flags().preCopy();
  }

  /**
   * While the workload still runs: iterate PRE_COPY until the device may switch over
   * ({@link PrecopyPhase}: its initial data sent, re-sent after a REINIT, and little pending or
   * the rounds run out), telling the task status after each round.
   */
  void precopy(PrecopySpec spec) throws IOException, TaskFailure {
    int maxRounds = spec == null || spec.getMaxRounds() == null ? DEFAULT_MAX_ROUNDS : spec.getMaxRounds();
    long threshold = spec == null || spec.getThresholdBytes() == null ? DEFAULT_THRESHOLD : spec.getThresholdBytes();
    machine.transition(MigrationState.PRE_COPY);
    precopy = new PrecopyPhase(maxRounds, threshold);
    do {
      context.checkpoint();
      Instant start = context.clock().instant();
      PrecopyRound round = machine.readPrecopy(this::write, Long.MAX_VALUE);
      precopy.record(round, Duration.between(start, context.clock().instant()));
      context.precopy(address(), precopy.progress());
    } while (!precopy.switchoverReady());
  }

  /** With the workload quiesced: the rest of the state, to the permanent end of the stream. */
  void stopCopy() throws IOException, TaskFailure {
    context.checkpoint();
    machine.transition(MigrationState.STOP_COPY);
    machine.readToEnd(new ChunkSink() {
      @Override
      public void accept(ByteBuffer chunk) throws IOException {
        write(chunk);
      }

      @Override
      public ByteBuffer lend() throws IOException {
        return writer.lend();
      }

      @Override
      public void lentFilled(ByteBuffer lent, int bytes) throws IOException {
        writer.lentFilled(lent, bytes);
        counted(bytes);
      }
    }, total -> { });
    summary = writer.commit();
  }

  int precopyRounds() {
    return precopy == null ? 0 : precopy.rounds();
  }

  private void write(ByteBuffer chunk) throws IOException {
    int bytes = chunk.remaining();
    writer.write(chunk);
    counted(bytes);
  }

  private void counted(int bytes) throws TaskStoppedException {
    context.addBytes(bytes);
    TaskFailure stop = context.stopReason();
    if (stop != null) {
      // Checked on every chunk so that a cancel or a deadline stops a long stream promptly.
      throw new TaskStoppedException(stop);
    }
  }

  /** After the save: back to RUNNING, or to STOP with the session closed when the user keeps it stopped. */
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

  /** Undoes what is not committed: the temporary blob goes, the device returns to RUNNING. */
  String rollBack() {
    StringBuilder what = new StringBuilder();
    try {
      if (summary == null) {
        writer.abort();
      }
    } catch (IOException e) {
      what.append("could not discard ").append(writer).append(": ").append(e.getMessage()).append("; ");
    }
    try {
      what.append(device.address()).append(": ").append(machine.recoverToRunning().describe());
    } catch (IOException e) {
      what.append(device.address()).append(": could not return to RUNNING: ").append(e.getMessage());
    }
    return what.toString();
  }

  @Override
  public void close() {
    machine.close();
    device.close();
    try {
      writer.close();
    } catch (IOException e) {
      // Nothing to add: rollBack already reported a failure to remove the temporary file.
    }
  }
}
