package dev.vfio.agent.tasks;

import static dev.vfio.agent.tasks.TaskFixture.failure;
import static dev.vfio.agent.vfio.MigrationState.RUNNING;
import static dev.vfio.agent.vfio.MigrationState.STOP;
import static dev.vfio.agent.vfio.MigrationState.STOP_COPY;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vfio.agent.blobs.BlobIdentity;
import dev.vfio.agent.blobs.BlobReader;
import dev.vfio.agent.blobs.FullClaims;
import dev.vfio.agent.devices.DeviceDetails;
import dev.vfio.agent.pods.PodRef;
import dev.vfio.agent.sim.SimulatedDeviceSpec;
import dev.vfio.agent.sim.SimulatedFaults;
import dev.vfio.agent.vfio.Errno;
import dev.vfio.agent.vfio.MigrationFlags;
import dev.vfio.api.v1alpha1.AfterSnapshot;
import dev.vfio.api.v1alpha1.DeviceFingerprint;
import dev.vfio.api.v1alpha1.DeviceResult;
import dev.vfio.api.v1alpha1.Reason;
import dev.vfio.api.v1alpha1.TaskOperation;
import dev.vfio.api.v1alpha1.TaskPhase;
import dev.vfio.api.v1alpha1.VfioNodeTaskSpec;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SaveOperationTest {
  static final String GPU = "0000:3b:00.0";
  static final String NIC = "0000:3b:00.1";
  static final long MIB = 1 << 20;

  @TempDir Path directory;
  @AutoClose TaskFixture node;
  PodRef pod;

  @BeforeEach
  void createNode() throws Exception {
    node =
        TaskFixture.create(
            directory,
            SimulatedDeviceSpec.of(GPU, 3 * MIB),
            SimulatedDeviceSpec.of(NIC, MIB)
                .withFlags(
                    new MigrationFlags(
                        MigrationFlags.STOP_COPY | MigrationFlags.P2P | MigrationFlags.PRE_COPY))
                .withDirtyBytesPerRound(4096));
    pod = node.pod("workload", GPU, NIC);
  }

  RecordedTask save(Consumer<VfioNodeTaskSpec> more) {
    return save(node, pod, more);
  }

  static RecordedTask save(TaskFixture on, PodRef holder, Consumer<VfioNodeTaskSpec> more) {
    return on.task(
        TaskOperation.Save,
        holder,
        spec -> {
          spec.setDevices(List.of(GPU, NIC));
          spec.setStorageClaim(TaskFixture.CLAIM);
          spec.setBlobDirectory(TaskFixture.NAMESPACE + "/snap");
          more.accept(spec);
        });
  }

  /**
   * What every failed save must leave: devices running, pod thawed, nothing journaled or half
   * written.
   */
  void assertRolledBack() throws Exception {
    node.assertState(RUNNING, GPU, NIC);
    assertFalse(node.frozen(pod), "pod thawed");
    assertEquals(List.of(), node.journaled());
    assertTrue(
        node.filesOf("snap").stream().noneMatch(f -> f.getFileName().toString().contains(".tmp-")),
        node.filesOf("snap")::toString);
  }

  @Test
  void savesEveryDeviceIntoAVerifiedBlobAndResumesThem() throws Exception {
    RecordedTask task = save(spec -> {});

    node.save().run(task.context);

    assertEquals(TaskPhase.Succeeded, task.last().getPhase());
    List<DeviceResult> results = task.last().getDevices();
    assertEquals(List.of(GPU, NIC), results.stream().map(DeviceResult::getAddress).toList());
    for (DeviceResult result : results) {
      try (BlobReader blob = BlobReader.open(node.blob("snap", result.getAddress()))) {
        blob.authenticate(
            TaskFixture.KEY,
            new BlobIdentity(
                TaskFixture.setUidOf(TaskFixture.NAMESPACE + "/snap"), result.getAddress()));
        assertEquals(result.getBytes(), blob.verify().stateBytes());
      }
    }
    assertEquals(node.device(GPU).content().streamBytes(), results.get(0).getBytes());
    assertTrue(results.get(1).getPrecopyRounds() > 0, "the PRE_COPY device ran rounds");
    assertEquals(List.of(pod), node.freezes);
    assertTrue(task.last().getDowntimeMillis() >= 0);
    node.assertState(RUNNING, GPU, NIC);
    assertFalse(node.frozen(pod));
    assertEquals(List.of(), node.journaled());
  }

  @Test
  void eachResultRecordsTheFingerprintOfTheDeviceItWasSavedFrom() throws Exception {
    try (TaskFixture revised =
        TaskFixture.create(
            directory.resolve("revised"),
            SimulatedDeviceSpec.of(GPU, MIB)
                .withDetails(
                    new DeviceDetails(
                        Optional.of("10de"),
                        Optional.of("1839"),
                        Optional.of("a1"),
                        Optional.empty())))) {
      RecordedTask task =
          revised.task(
              TaskOperation.Save,
              revised.pod("workload", GPU),
              spec -> {
                spec.setDevices(List.of(GPU));
                spec.setStorageClaim(TaskFixture.CLAIM);
                spec.setBlobDirectory(TaskFixture.NAMESPACE + "/snap");
              });

      revised.save().run(task.context);

      DeviceFingerprint recorded = task.last().getDevices().get(0).getFingerprint();
      assertEquals("a1", recorded.getRevision());
      assertEquals("1839", recorded.getSubsystemDeviceId());
      assertEquals(recorded.computeKey(), recorded.getCompatibilityKey());
    }
  }

  @Test
  void severalDevicesOfWhichOneHasNoP2pAreRefusedDeviceNotMigratableUntouched() throws Exception {
    try (TaskFixture mixed =
        TaskFixture.create(
            directory.resolve("mixed"),
            SimulatedDeviceSpec.of(GPU, MIB),
            SimulatedDeviceSpec.of(NIC, MIB)
                .withFlags(new MigrationFlags(MigrationFlags.STOP_COPY)))) {
      PodRef holder = mixed.pod("workload", GPU, NIC);
      RecordedTask task = save(mixed, holder, spec -> {});

      TaskFailure failure = assertThrows(TaskFailure.class, () -> mixed.save().run(task.context));

      assertEquals(Reason.DEVICE_NOT_MIGRATABLE, failure.reason());
      assertTrue(failure.getMessage().contains("[" + NIC + "] have no P2P"), failure.getMessage());
      mixed.assertState(RUNNING, GPU, NIC);
      assertEquals(List.of(), mixed.freezes);
      assertEquals(List.of(), mixed.journaled());
    }
  }

  @Test
  void aDeviceSpeakingOnlyTheV1ProtocolIsRefusedWithItsOwnReasonUntouched() throws Exception {
    try (TaskFixture v1 =
        TaskFixture.create(
            directory.resolve("v1"),
            SimulatedDeviceSpec.of(GPU, MIB),
            SimulatedDeviceSpec.of(NIC, MIB)
                .withFlags(MigrationFlags.NONE)
                .withV1MigrationRegion(true))) {
      PodRef holder = v1.pod("workload", GPU, NIC);
      RecordedTask task = save(v1, holder, spec -> {});

      TaskFailure failure = assertThrows(TaskFailure.class, () -> v1.save().run(task.context));

      assertEquals(Reason.MIGRATION_PROTOCOL_V1, failure.reason());
      assertTrue(
          failure.getMessage().startsWith("device " + NIC + " speaks the v1 migration region"),
          failure.getMessage());
      v1.assertState(RUNNING, GPU);
      assertEquals(List.of(), v1.freezes);
      assertEquals(List.of(), v1.journaled());
    }
  }

  @Test
  void aDeviceWithoutAnyMigrationStaysDeviceNotMigratable() throws Exception {
    try (TaskFixture none =
        TaskFixture.create(
            directory.resolve("none"),
            SimulatedDeviceSpec.of(GPU, MIB),
            SimulatedDeviceSpec.of(NIC, MIB).withFlags(MigrationFlags.NONE))) {
      RecordedTask task = save(none, none.pod("workload", GPU, NIC), spec -> {});

      TaskFailure failure = assertThrows(TaskFailure.class, () -> none.save().run(task.context));

      assertEquals(Reason.DEVICE_NOT_MIGRATABLE, failure.reason());
      assertEquals(List.of(), none.journaled());
    }
  }

  @Test
  void keptStoppedLeavesTheDevicesStoppedAndThePodFrozen() throws Exception {
    RecordedTask task = save(spec -> spec.setAfterSave(AfterSnapshot.KeepStopped));

    node.save().run(task.context);

    assertEquals(TaskPhase.Succeeded, task.last().getPhase());
    node.assertState(STOP, GPU, NIC);
    assertTrue(node.frozen(pod));
    assertEquals(List.of(), node.journaled(), "nothing for a restart to undo");
  }

  @Test
  void aSaveOfDevicesLeftStoppedIsRefusedSourceStoppedAndTouchesNothing() throws Exception {
    node.save().run(save(spec -> spec.setAfterSave(AfterSnapshot.KeepStopped)).context);
    node.freezes.clear();

    TaskFailure failure =
        failure(node.save(), save(spec -> spec.setBlobDirectory(TaskFixture.NAMESPACE + "/again")));

    assertEquals(Reason.SOURCE_STOPPED, failure.reason());
    assertTrue(failure.getMessage().contains(GPU + " is STOP, not RUNNING"), failure.getMessage());
    node.assertState(STOP, GPU, NIC);
    assertEquals(List.of(), node.freezes, "nothing frozen");
    assertEquals(List.of(), node.journaled());
    assertEquals(List.of(), node.filesOf("again"));
  }

  @Test
  void aDeviceThatFailsItsArcFailsDeviceErrorAndEverythingIsRolledBack() throws Exception {
    node.device(GPU).setFaults(SimulatedFaults.NONE.withArcFault(STOP, STOP_COPY, Errno.EIO, true));

    TaskFailure failure = failure(node.save(), save(spec -> {}));

    assertEquals(Reason.DEVICE_ERROR, failure.reason());
    assertTrue(
        failure.getMessage().contains(GPU + ": RUNNING_P2P -> STOP_COPY failed: EIO"),
        failure.getMessage());
    assertRolledBack();
  }

  @Test
  void aStreamThatBreaksMidwayFailsDeviceError() throws Exception {
    node.device(GPU).setFaults(SimulatedFaults.NONE.withStreamFailureAfter(MIB + 100));

    TaskFailure failure = failure(node.save(), save(spec -> {}));

    assertEquals(Reason.DEVICE_ERROR, failure.reason());
    assertRolledBack();
  }

  @Test
  void aFullClaimFailsStorageFullAndLeavesNoTemporaryBlob() throws Exception {
    node =
        TaskFixture.create(
            directory.resolve("full"),
            roots -> FullClaims.fullAfter(roots, 256 * 1024),
            SimulatedDeviceSpec.of(GPU, 3 * MIB),
            SimulatedDeviceSpec.of(NIC, MIB));
    pod = node.pod("workload", GPU, NIC);

    TaskFailure failure = failure(node.save(), save(spec -> {}));

    assertEquals(Reason.STORAGE_FULL, failure.reason());
    assertTrue(failure.getMessage().contains("free space on the claim"), failure.getMessage());
    assertRolledBack();
  }

  @Test
  void aClaimThisAgentDoesNotMountFailsBeforeAnyDeviceStops() throws Exception {
    long before = node.epoch(GPU);

    TaskFailure failure = failure(node.save(), save(spec -> spec.setStorageClaim("elsewhere")));

    assertEquals(Reason.STORAGE_CLAIM_UNKNOWN, failure.reason());
    assertEquals(before, node.epoch(GPU));
    assertEquals(List.of(), node.freezes);
  }

  @Test
  void cancelMidStreamStopsTheSaveAndRollsBack() throws Exception {
    RecordedTask task = save(spec -> {});
    task.when(
        status -> status.getBytesDone() != null && status.getBytesDone() > 0,
        task.context::requestCancel);

    TaskFailure failure = failure(node.save(), task);

    assertEquals(Reason.CANCELLED, failure.reason());
    assertRolledBack();
  }

  @Test
  void aDeviceNamedTwiceFailsInvalidSpecBeforeAnythingIsTouched() throws Exception {
    long before = node.epoch(GPU);

    TaskFailure failure =
        failure(node.save(), save(spec -> spec.setDevices(List.of(GPU, NIC, GPU))));

    assertEquals(Reason.INVALID_SPEC, failure.reason());
    assertTrue(
        failure.getMessage().contains("names device " + GPU + " twice"), failure.getMessage());
    assertEquals(before, node.epoch(GPU), "the device never left RUNNING");
    assertEquals(List.of(), node.freezes, "the pod was never frozen");
    node.assertState(RUNNING, GPU, NIC);
  }
}
