package dev.vfio.agent.tasks;

import static dev.vfio.agent.tasks.TaskFixture.failure;
import static dev.vfio.agent.tasks.TaskFixture.pair;
import static dev.vfio.agent.vfio.MigrationState.RESUMING;
import static dev.vfio.agent.vfio.MigrationState.RUNNING;
import static dev.vfio.agent.vfio.MigrationState.STOP;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vfio.agent.blobs.BlobIdentity;
import dev.vfio.agent.blobs.BlobKey;
import dev.vfio.agent.blobs.BlobReader;
import dev.vfio.agent.blobs.BlobWriter;
import dev.vfio.agent.devices.DeviceDetails;
import dev.vfio.agent.pods.PodRef;
import dev.vfio.agent.sim.SimulatedDeviceSpec;
import dev.vfio.agent.sim.SimulatedFaults;
import dev.vfio.agent.sim.SimulatedState;
import dev.vfio.agent.vfio.Errno;
import dev.vfio.api.v1alpha1.DeviceMapping;
import dev.vfio.api.v1alpha1.Reason;
import dev.vfio.api.v1alpha1.Stage;
import dev.vfio.api.v1alpha1.TaskOperation;
import dev.vfio.api.v1alpha1.TaskPhase;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class LoadOperationTest {
  static final String SOURCE_A = "0000:3b:00.0";
  static final String SOURCE_B = "0000:3b:00.1";
  static final String TARGET_A = "0000:af:00.0";
  static final String TARGET_B = "0000:af:00.1";
  static final long BYTES = 2 << 20;

  @TempDir Path directory;
  @AutoClose TaskFixture node;
  PodRef target;
  SimulatedState savedA;
  SimulatedState savedB;

  /** Two devices saved into snapshot "snap", and a target pod with two devices like them. */
  @BeforeEach
  void saveASnapshot() throws Exception {
    node =
        TaskFixture.create(
            directory,
            SimulatedDeviceSpec.of(SOURCE_A, BYTES),
            SimulatedDeviceSpec.of(SOURCE_B, BYTES / 2),
            SimulatedDeviceSpec.of(TARGET_A, BYTES),
            SimulatedDeviceSpec.of(TARGET_B, BYTES / 2));
    node.saveSnapshot(
        node.pod("origin", SOURCE_A, SOURCE_B), "snap", List.of(SOURCE_A, SOURCE_B), spec -> {});
    savedA = node.device(SOURCE_A).content();
    savedB = node.device(SOURCE_B).content();
    target = node.pod("target", TARGET_A, TARGET_B);
  }

  RecordedTask load(List<String> devices, List<DeviceMapping> map) {
    return node.task(
        TaskOperation.Load,
        target,
        spec -> {
          spec.setDevices(devices);
          spec.setDeviceMap(map);
          spec.setStorageClaim(TaskFixture.CLAIM);
          spec.setBlobDirectory(TaskFixture.NAMESPACE + "/snap");
        });
  }

  RecordedTask load() {
    return load(
        List.of(TARGET_A, TARGET_B), List.of(pair(SOURCE_A, TARGET_A), pair(SOURCE_B, TARGET_B)));
  }

  /** What every failed load must leave: targets running, nothing journaled, the pod told. */
  void assertRolledBack() throws Exception {
    node.assertState(RUNNING, TARGET_A, TARGET_B);
    assertEquals(List.of(), node.journaled());
  }

  @Test
  void loadsEverySavedStateIntoItsTargetDevice() throws Exception {
    RecordedTask task = load();

    node.load().run(task.context);

    assertEquals(TaskPhase.Succeeded, task.last().getPhase());
    assertEquals(savedA, node.device(TARGET_A).content());
    assertEquals(savedB, node.device(TARGET_B).content());
    node.assertState(RUNNING, TARGET_A, TARGET_B);
    assertEquals(List.of(), node.journaled());
    assertEquals(savedA.streamBytes(), task.last().getDevices().get(0).getBytes());
  }

  @Test
  void aTargetThatWithdrewItsOptInFailsTargetNotOptedInUntouched() throws Exception {
    node.withdrawOptIn(target);
    long before = node.epoch(TARGET_A);

    TaskFailure failure = failure(node.load(), load());

    assertEquals(Reason.TARGET_NOT_OPTED_IN, failure.reason());
    assertEquals(before, node.epoch(TARGET_A), "the target never left RUNNING");
    assertRolledBack();
  }

  @Test
  void aCorruptedBlobIsRefusedBeforeAnyDeviceIsTouched() throws Exception {
    Path blob = node.blob("snap", SOURCE_B);
    try (RandomAccessFile file = new RandomAccessFile(blob.toFile(), "rw")) {
      file.seek(file.length() / 2);
      int b = file.read();
      file.seek(file.length() / 2);
      file.write(b ^ 0x5a);
    }
    long before = node.epoch(TARGET_A);

    TaskFailure failure = failure(node.load(), load());

    assertEquals(Reason.BLOB_CORRUPT, failure.reason());
    assertTrue(failure.getMessage().contains("no device was touched"), failure.getMessage());
    assertEquals(before, node.epoch(TARGET_A), "the first target never left RUNNING either");
    assertRolledBack();
  }

  @Test
  void aBlobChangedWithItsCrcRecomputedFailsBlobUnauthenticatedBeforeAnyDeviceIsTouched()
      throws Exception {
    Path blob = node.blob("snap", SOURCE_B);
    byte[] bytes = Files.readAllBytes(blob);
    int headerBytes = ByteBuffer.wrap(bytes).getInt(10);
    // The first chunk's frame: length, CRC, tag, then its bytes; one byte changed, CRC made right.
    int frame = 14 + headerBytes + 4;
    int length = ByteBuffer.wrap(bytes).getInt(frame);
    int data = frame + 8 + 16;
    bytes[data + length / 2] ^= 0x40;
    CRC32C crc = new CRC32C();
    crc.update(bytes, data, length);
    ByteBuffer.wrap(bytes).putInt(frame + 4, (int) crc.getValue());
    Files.write(blob, bytes);
    long before = node.epoch(TARGET_A);

    TaskFailure failure = failure(node.load(), load());

    assertEquals(Reason.BLOB_UNAUTHENTICATED, failure.reason());
    assertTrue(failure.getMessage().contains("chunk 0"), failure.getMessage());
    assertTrue(failure.getMessage().contains("no device was touched"), failure.getMessage());
    assertEquals(before, node.epoch(TARGET_A), "the first target never left RUNNING either");
    assertRolledBack();
  }

  @Test
  void theBlobsOfTwoDevicesSwappedFailBlobUnauthenticated() throws Exception {
    Path a = node.blob("snap", SOURCE_A);
    Path b = node.blob("snap", SOURCE_B);
    Path aside = a.resolveSibling("aside");
    Files.move(a, aside);
    Files.move(b, a);
    Files.move(aside, b);

    TaskFailure failure = failure(node.load(), load());

    assertEquals(Reason.BLOB_UNAUTHENTICATED, failure.reason());
    assertTrue(failure.getMessage().contains(SOURCE_A), failure.getMessage());
    assertRolledBack();
  }

  @Test
  void theBlobsOfAnEarlierSnapshotOfTheSameNameFailBlobUnauthenticated() throws Exception {
    RecordedTask task =
        node.task(
            TaskOperation.Load,
            target,
            spec -> {
              spec.setDevices(List.of(TARGET_A, TARGET_B));
              spec.setDeviceMap(List.of(pair(SOURCE_A, TARGET_A), pair(SOURCE_B, TARGET_B)));
              spec.setStorageClaim(TaskFixture.CLAIM);
              spec.setBlobDirectory(TaskFixture.NAMESPACE + "/snap");
              spec.setBlobSetUid("uid-of-the-snapshot-made-again-under-this-name");
            });

    TaskFailure failure = failure(node.load(), task);

    assertEquals(Reason.BLOB_UNAUTHENTICATED, failure.reason());
    assertRolledBack();
  }

  @Test
  void anAgentWithAnotherKeyFailsBlobUnauthenticatedNamingBothKeys() throws Exception {
    BlobKey other =
        BlobKey.of(
            new byte[] {
              1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
              17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32
            });

    TaskFailure failure = failure(node.load(other), load());

    assertEquals(Reason.BLOB_UNAUTHENTICATED, failure.reason());
    assertTrue(failure.getMessage().contains(TaskFixture.KEY.id()), failure.getMessage());
    assertTrue(failure.getMessage().contains(other.id()), failure.getMessage());
    assertRolledBack();
  }

  @Test
  void aBlobWithoutASealIsRefusedUnlessTheAgentAcceptsThem() throws Exception {
    for (String source : List.of(SOURCE_A, SOURCE_B)) {
      Path blob = node.blob("snap", source);
      Path unsealed = blob.resolveSibling("unsealed");
      try (BlobReader sealed = BlobReader.open(blob);
          BlobWriter writer = BlobWriter.create(unsealed, sealed.header())) {
        sealed.authenticate(
            TaskFixture.KEY,
            new BlobIdentity(TaskFixture.setUidOf(TaskFixture.NAMESPACE + "/snap"), source));
        sealed.copyTo(writer);
        writer.commit();
      }
      Files.move(unsealed, blob, StandardCopyOption.REPLACE_EXISTING);
    }

    TaskFailure failure = failure(node.load(), load());
    assertEquals(Reason.BLOB_UNAUTHENTICATED, failure.reason());
    assertTrue(failure.getMessage().contains("carries no seal"), failure.getMessage());
    assertRolledBack();

    RecordedTask accepted = load();
    node.loadAcceptingUnauthenticated().run(accepted.context);
    assertEquals(TaskPhase.Succeeded, accepted.last().getPhase());
    assertEquals(savedA, node.device(TARGET_A).content());
  }

  @Test
  void aLoadWithoutTheBlobKeyFailsBlobKeyMissing() throws Exception {
    LoadOperation keyless =
        new LoadOperation(
            node.podDevices,
            node.blobs,
            () -> {
              throw new java.nio.file.NoSuchFileException(
                  "/var/run/vfio-operator/blob-key/blob.key");
            },
            false,
            node.journal);

    TaskFailure failure = failure(keyless, load());

    assertEquals(Reason.BLOB_KEY_MISSING, failure.reason());
    assertRolledBack();
  }

  @Test
  void aMissingBlobFailsBlobCorrupt() throws Exception {
    Files.delete(node.blob("snap", SOURCE_A));

    TaskFailure failure = failure(node.load(), load());

    assertEquals(Reason.BLOB_CORRUPT, failure.reason());
    assertTrue(failure.getMessage().contains("missing"), failure.getMessage());
    assertRolledBack();
  }

  @Test
  void aTargetThatRejectsTheStateOnLeavingResumingFailsStateRejected() throws Exception {
    node.device(TARGET_B).setFaults(SimulatedFaults.NONE.withRejectedResumeData());

    TaskFailure failure = failure(node.load(), load());

    assertEquals(Reason.STATE_REJECTED, failure.reason());
    assertTrue(failure.getMessage().contains(TARGET_B), failure.getMessage());
    assertRolledBack();
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"ENOSPC", "EINVAL"})
  void aTargetThatRefusesTheStateOnWriteFailsStateRejected(String errno) throws Exception {
    node.device(TARGET_B)
        .setFaults(SimulatedFaults.NONE.withResumeWritesRefusedAfter(4096, Errno.valueOf(errno)));

    TaskFailure failure = failure(node.load(), load());

    assertEquals(Reason.STATE_REJECTED, failure.reason());
    assertTrue(
        failure.getMessage().contains("write data_fd failed: " + errno), failure.getMessage());
    assertRolledBack();
  }

  @Test
  void aTargetThatCannotEnterResumingFailsDeviceError() throws Exception {
    node.device(TARGET_A)
        .setFaults(SimulatedFaults.NONE.withArcFault(STOP, RESUMING, Errno.EIO, true));

    TaskFailure failure = failure(node.load(), load());

    assertEquals(Reason.DEVICE_ERROR, failure.reason());
    assertRolledBack();
  }

  @Test
  void aTargetOfAnotherModelFailsIncompatibleDevicesUntouched() throws Exception {
    node =
        TaskFixture.create(
            directory.resolve("other"),
            SimulatedDeviceSpec.of(SOURCE_A, BYTES),
            new SimulatedDeviceSpec(
                TARGET_A,
                "vfio-sim-pci",
                "1b36",
                "0102",
                "sim",
                BYTES,
                SimulatedDeviceSpec.of(TARGET_A, BYTES).flags(),
                0,
                false,
                true,
                false,
                0,
                false,
                SimulatedFaults.NONE,
                DeviceDetails.UNKNOWN));
    node.saveSnapshot(node.pod("origin", SOURCE_A), "snap", List.of(SOURCE_A), spec -> {});
    target = node.pod("target", TARGET_A);
    long before = node.epoch(TARGET_A);

    TaskFailure failure =
        failure(node.load(), load(List.of(TARGET_A), List.of(pair(SOURCE_A, TARGET_A))));

    assertEquals(Reason.INCOMPATIBLE_DEVICES, failure.reason());
    assertEquals(before, node.epoch(TARGET_A));
  }

  @Test
  void cancelWhileLoadingResetsTheTargets() throws Exception {
    RecordedTask task = load();
    task.when(status -> status.getStage() == Stage.Loading, task.context::requestCancel);

    TaskFailure failure = failure(node.load(), task);

    assertEquals(Reason.CANCELLED, failure.reason());
    assertRolledBack();
  }

  @Test
  void aStatusWriteThatFailsWithTheTargetsResumingRollsThemBack() throws Exception {
    RecordedTask task = load().refuseWritesWhen(status -> status.getStage() == Stage.Loading);

    TaskFailure failure = failure(node.load(), task);

    assertEquals(Reason.DEVICE_ERROR, failure.reason());
    assertTrue(
        failure.getMessage().contains("the API server could not be reached"), failure.getMessage());
    assertRolledBack();
  }

  @Test
  void aSourceNamedTwiceInTheDeviceMapFailsInvalidSpecUntouched() throws Exception {
    long before = node.epoch(TARGET_A);

    TaskFailure failure =
        failure(
            node.load(),
            load(
                List.of(TARGET_A, TARGET_B),
                List.of(pair(SOURCE_A, TARGET_A), pair(SOURCE_A, TARGET_B))));

    assertEquals(Reason.INVALID_SPEC, failure.reason());
    assertTrue(
        failure.getMessage().contains("source device " + SOURCE_A + " twice"),
        failure.getMessage());
    assertEquals(before, node.epoch(TARGET_A));
  }

  @Test
  void aTargetNamedTwiceInTheDeviceMapFailsInvalidSpecUntouched() throws Exception {
    long before = node.epoch(TARGET_A);

    TaskFailure failure =
        failure(
            node.load(),
            load(List.of(TARGET_A), List.of(pair(SOURCE_A, TARGET_A), pair(SOURCE_B, TARGET_A))));

    assertEquals(Reason.INVALID_SPEC, failure.reason());
    assertTrue(
        failure.getMessage().contains("target device " + TARGET_A + " twice"),
        failure.getMessage());
    assertEquals(before, node.epoch(TARGET_A));
  }

  @Test
  void aTargetWithoutASourceFailsInvalidSpecUntouched() throws Exception {
    long before = node.epoch(TARGET_B);

    TaskFailure failure =
        failure(node.load(), load(List.of(TARGET_A, TARGET_B), List.of(pair(SOURCE_A, TARGET_A))));

    assertEquals(Reason.INVALID_SPEC, failure.reason());
    assertTrue(failure.getMessage().contains(TARGET_B), failure.getMessage());
    assertEquals(before, node.epoch(TARGET_B));
  }
}
