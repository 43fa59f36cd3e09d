package dev.vfio.agent.tasks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vfio.agent.blobs.BlobCompression;
import dev.vfio.agent.blobs.BlobHeader;
import dev.vfio.agent.blobs.BlobReader;
import dev.vfio.agent.blobs.BlobWriter;
import dev.vfio.agent.inventory.InventoryDevice;
import dev.vfio.agent.inventory.MigrationInfo;
import dev.vfio.agent.sim.SimulatedDevice;
import dev.vfio.agent.sim.SimulatedDeviceSpec;
import dev.vfio.agent.sim.SimulatedState;
import dev.vfio.agent.vfio.MigrationFlags;
import dev.vfio.agent.vfio.MigrationState;
import dev.vfio.agent.vfio.MigrationStateMachine;
import dev.vfio.api.v1alpha1.PrecopyProgress;
import dev.vfio.api.v1alpha1.PrecopySpec;
import dev.vfio.api.v1alpha1.Stage;
import dev.vfio.api.v1alpha1.TaskOperation;
import dev.vfio.api.v1alpha1.TaskPhase;
import dev.vfio.api.v1alpha1.VfioNodeTask;
import dev.vfio.api.v1alpha1.VfioNodeTaskSpec;
import dev.vfio.api.v1alpha1.VfioNodeTaskStatus;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A save whose device re-initializes during PRE_COPY ({@code VFIO_PRECOPY_INFO_REINIT}), loaded
 * back: the new initial data is read before the switch to STOP_COPY, the blob carries it in stream
 * order, and the loaded device ends with the state the source had when it stopped.
 */
class DeviceSaveReinitTest {
  static final String SOURCE = "0000:65:00.0";
  static final String TARGET = "0000:17:00.1";
  static final long IMAGE = 256 * 1024;
  static final MigrationFlags FLAGS =
      new MigrationFlags(MigrationFlags.STOP_COPY | MigrationFlags.P2P | MigrationFlags.PRE_COPY);

  final ScheduledExecutorService delayedReports = Executors.newSingleThreadScheduledExecutor();
  final AtomicReference<VfioNodeTaskStatus> written = new AtomicReference<>();
  TaskContext context;
  @TempDir Path work;

  @BeforeEach
  void claimATask() {
    VfioNodeTask task = new VfioNodeTask();
    task.setMetadata(
        new ObjectMetaBuilder().withName("snap-save").withNamespace("default").build());
    VfioNodeTaskSpec spec = new VfioNodeTaskSpec();
    spec.setOperation(TaskOperation.Save);
    spec.setNodeName("node-a");
    task.setSpec(spec);
    VfioNodeTaskStatus claimed = new VfioNodeTaskStatus();
    claimed.setPhase(TaskPhase.Running);
    claimed.setStage(Stage.Precopy);
    // Every report written at once, so that the last written status shows the last round.
    context =
        new TaskContext(
            task,
            claimed,
            (t, status) -> written.set(status),
            new InMemoryTaskStore(task),
            Clock.systemUTC(),
            Duration.ZERO,
            delayedReports);
  }

  @AfterEach
  void stopReports() {
    delayedReports.shutdownNow();
  }

  @Test
  void reinitDataIsSentBeforeTheSwitchAndTheLoadedDeviceEndsWithTheSourcesState() throws Exception {
    SimulatedDevice source =
        new SimulatedDevice(
            SimulatedDeviceSpec.of(SOURCE, IMAGE)
                .withFlags(FLAGS)
                .withDirtyBytesPerRound(4096)
                .withReinitOnPrecopyInfo(1),
            work.resolve("source"));
    long epochBefore = source.epoch();
    Path blob = work.resolve("blobs").resolve(SOURCE + ".vfs");
    PrecopySpec oneRound = new PrecopySpec();
    oneRound.setMaxRounds(1);

    try (DeviceSave save = save(source, blob)) {
      save.precopy(oneRound);
      // What MIG_DATA_SIZE says STOP_COPY still has to carry: the last dirtying and the end, not
      // the re-initialized image, which PRE_COPY read although its one round was used up.
      long leftForStopCopy = source.stopCopySize().orElseThrow();
      assertTrue(leftForStopCopy < IMAGE, leftForStopCopy + " bytes left for STOP_COPY");
      assertEquals(2, save.precopyRounds());
      save.stopCopy();
      save.finish(true);
    }
    SimulatedState saved = source.content();
    assertEquals(
        epochBefore + 2, saved.epoch(), "one epoch for leaving RUNNING, one for the REINIT");

    PrecopyProgress reported = written.get().getPrecopy();
    assertEquals(1, reported.getReinits());
    assertEquals(2, reported.getRounds());
    assertEquals(0, reported.getInitialBytes());
    assertEquals(0, reported.getEstimatedSwitchoverMillis());

    SimulatedDevice target =
        new SimulatedDevice(
            SimulatedDeviceSpec.of(TARGET, IMAGE).withFlags(FLAGS), work.resolve("target"));
    try (DeviceLoad load =
            new DeviceLoad(
                inventory(target), target, MigrationStateMachine.probe(target), context);
        BlobReader reader = BlobReader.open(blob)) {
      reader.verify();
      load.begin();
      reader.copyTo(load::write);
      load.finish();
    }
    assertEquals(MigrationState.RUNNING, target.state());
    assertEquals(saved, target.content());
  }

  private DeviceSave save(SimulatedDevice source, Path blob) throws IOException {
    InventoryDevice inventory = inventory(source);
    BlobWriter writer =
        BlobWriter.create(
            blob,
            new BlobHeader(
                BlobHeader.FORMAT_VERSION,
                inventory.identity(),
                FLAGS.names(),
                "7.1.0",
                "node-a",
                "default",
                "vm-0",
                "nightly",
                "2026-12-01T10:00:00Z",
                BlobCompression.NONE));
    return new DeviceSave(inventory, source, MigrationStateMachine.probe(source), writer, context);
  }

  private static InventoryDevice inventory(SimulatedDevice device) throws IOException {
    return InventoryDevice.of(
        device.spec().identity(), device.spec().details(), MigrationInfo.of(device));
  }
}
