package dev.vfio.agent.tasks;

import dev.vfio.agent.inventory.InventoryDevice;
import dev.vfio.agent.vfio.MigrationDevice;
import dev.vfio.agent.vfio.MigrationState;
import dev.vfio.agent.vfio.MigrationStateMachine;
import dev.vfio.agent.vfio.Recovery;
import dev.vfio.agent.vfio.StateRejectedException;
import dev.vfio.api.v1alpha1.DeviceResult;
import dev.vfio.api.v1alpha1.Reasons;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import dev.vfio.agent.journal.DeviceJournal;
import dev.vfio.agent.pods.PodRef;

/**
 * The load of one state stream into one target device: RUNNING to RESUMING, the stream written
 * to the data_fd, RESUMING to RUNNING — where the device validates what it got. Used by Load
 * (from a blob) and Receive (from a peer).
 */
final class DeviceLoad implements AutoCloseable {
  private final InventoryDevice inventory;
  private final MigrationDevice device;
  private final MigrationStateMachine machine;
  private final TaskContext context;
  private long bytes;

  DeviceLoad(InventoryDevice inventory, MigrationDevice device, MigrationStateMachine machine, TaskContext context) {
    this.inventory = inventory;
    this.device = device;
    this.machine = machine;
    this.context = context;
  }

  String address() {
    return device.address();
  }

  InventoryDevice inventory() {
    return inventory;
  }

  void begin() throws IOException {
    machine.transition(MigrationState.RESUMING);
  }

  /** Writes one verified chunk; stops promptly when the task is cancelled or out of time. */
  void accept(ByteBuffer chunk) throws IOException {
    TaskFailure stop = context.stopReason();
    if (stop != null) {
      throw new TaskStoppedException(stop);
    }
    int length = chunk.remaining();
    machine.writeAll(chunk);
    bytes += length;
    context.addBytes(length);
  }

  /** Leaves RESUMING, which is when the device checks the state: its refusal is the blob's fault, not the device's. */
  void finish() throws IOException, TaskFailure {
    try {
      machine.transition(MigrationState.RUNNING);
    } catch (StateRejectedException e) {
      throw new TaskFailure(Reasons.STATE_REJECTED, "device " + device.address()
          + " rejected the state it was given: " + e.getMessage(), e);
    }
  }

  DeviceResult result() {
    DeviceResult result = DeviceResults.of(device.address(), inventory, machine);
    result.setBytes(bytes);
    return result;
  }

  /**
   * Undoes a failed load of {@code loads} into a restore target: every device back to RUNNING
   * (from RESUMING only a reset does that, and the partial state goes with it), the journal entry
   * dropped, the pod told. Returns the cause, told what was undone.
   */
  static TaskFailure rollBackAll(List<DeviceLoad> loads, DeviceJournal journal, String taskUid,
      PodDevices podDevices, PodRef pod, TaskFailure cause) {
    List<String> done = loads.stream().map(DeviceLoad::rollBack).toList();
    try {
      journal.remove(taskUid);
    } catch (IOException e) {
      // Left for the next start's replay, which is harmless on RUNNING devices.
    }
    podDevices.markRestore(pod, "Failed");
    return new TaskFailure(cause.reason(), cause.getMessage() + "; target rolled back: " + String.join("; ", done), cause);
  }

  /** Back to RUNNING; from RESUMING only a reset does that, and the partial state is gone with it. */
  String rollBack() {
    try {
      return device.address() + ": " + resume().describe();
    } catch (IOException e) {
      return device.address() + ": could not return to RUNNING: " + e.getMessage();
    }
  }

  /** Back to RUNNING the mildest way that works; throws only if the device cannot get there. */
  Recovery resume() throws IOException {
    return machine.recoverToRunning();
  }

  @Override
  public void close() {
    machine.close();
    device.close();
  }
}
