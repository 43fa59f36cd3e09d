package dev.vfio.agent.tasks;

import dev.vfio.agent.inventory.InventoryDevice;
import dev.vfio.agent.vfio.ChunkSink;
import dev.vfio.agent.vfio.MigrationDevice;
import dev.vfio.agent.vfio.MigrationState;
import dev.vfio.agent.vfio.MigrationStateMachine;
import dev.vfio.agent.vfio.Recovery;
import dev.vfio.api.v1alpha1.DeviceResult;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * The load of one state stream into one target device, the sink a blob is read into: RUNNING to
 * RESUMING, the stream written to the data_fd, RESUMING to RUNNING — where the device validates
 * what it got — directly (Load) or through STOP (Receive, which waits there for the switchover).
 * Used by {@link StateRestore}; Resume uses it only to bring a device back to RUNNING.
 */
final class DeviceLoad implements ChunkSink, AutoCloseable {
  private final InventoryDevice inventory;
  private final MigrationDevice device;
  private final MigrationStateMachine machine;
  private final TaskContext context;
  private long bytes;
  private boolean ran;

  DeviceLoad(
      InventoryDevice inventory,
      MigrationDevice device,
      MigrationStateMachine machine,
      TaskContext context) {
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
  @Override
  public void write(ByteBuffer chunk) throws IOException {
    TaskFailure stop = context.stopReason();
    if (stop != null) {
      throw new TaskStoppedException(stop);
    }
    int length = chunk.remaining();
    machine.writeAll(chunk);
    bytes += length;
    context.addBytes(length);
  }

  MigrationStateMachine machine() {
    return machine;
  }

  /**
   * Leaves RESUMING for STOP, which is when the device checks the state and takes it, without
   * running it; its refusal is a {@code StateRejectedException}, the state's fault rather than the
   * device's. Unlike a session, a stopped device keeps that state if the agent dies.
   */
  void load() throws IOException {
    machine.transition(MigrationState.STOP);
  }

  /**
   * To RUNNING with the state: from RESUMING the device checks it on the way, as in {@link #load}.
   */
  void finish() throws IOException {
    machine.transition(MigrationState.RUNNING);
    ran = true;
  }

  DeviceResult result() {
    DeviceResult result = DeviceResults.of(device.address(), inventory, machine);
    result.setBytes(bytes);
    return result;
  }

  /**
   * Back to RUNNING without the state it took, partial or whole: a reset, unless the device never
   * left RUNNING. One that runs the state already is reset too: its source resumes it.
   */
  String rollBack() {
    try {
      return device.address() + ": " + machine.discardToRunning(ran).describe();
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
