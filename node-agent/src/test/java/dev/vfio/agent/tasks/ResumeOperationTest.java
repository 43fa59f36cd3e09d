package dev.vfio.agent.tasks;

import static dev.vfio.agent.tasks.TaskFixture.failure;
import static dev.vfio.agent.vfio.MigrationState.RUNNING;
import static dev.vfio.agent.vfio.MigrationState.STOP;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vfio.agent.pods.PodRef;
import dev.vfio.agent.sim.SimulatedDeviceSpec;
import dev.vfio.agent.sim.SimulatedState;
import dev.vfio.api.v1alpha1.AfterSnapshot;
import dev.vfio.api.v1alpha1.Reason;
import dev.vfio.api.v1alpha1.TaskOperation;
import dev.vfio.api.v1alpha1.TaskPhase;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ResumeOperationTest {
  static final String GPU = "0000:3b:00.0";
  static final String NIC = "0000:3b:00.1";

  @TempDir Path directory;
  @AutoClose TaskFixture node;
  PodRef pod;
  SimulatedState kept;

  /** The source of a storage migration: saved and kept stopped, its pod frozen. */
  @BeforeEach
  void saveAndKeepStopped() throws Exception {
    node =
        TaskFixture.create(
            directory, SimulatedDeviceSpec.of(GPU, 1 << 20), SimulatedDeviceSpec.of(NIC, 4096));
    pod = node.pod("source", GPU, NIC);
    node.saveSnapshot(
        pod, "snap", List.of(GPU, NIC), spec -> spec.setAfterSave(AfterSnapshot.KeepStopped));
    node.assertState(STOP, GPU, NIC);
    kept = node.device(GPU).content();
  }

  RecordedTask resume(List<String> devices) {
    return node.task(TaskOperation.Resume, pod, spec -> spec.setDevices(devices));
  }

  @Test
  void theDevicesRunAgainWithTheStateTheyKeptAndThePodIsThawed() throws Exception {
    RecordedTask task = resume(List.of(GPU, NIC));

    node.resume().run(task.context);

    assertEquals(TaskPhase.Succeeded, task.last().getPhase());
    node.assertState(RUNNING, GPU, NIC);
    assertEquals(kept, node.device(GPU).content(), "resumed, not reset");
    assertFalse(node.frozen(pod));
  }

  @Test
  void aPodReplacedSinceFailsPodChangedUntouched() throws Exception {
    RecordedTask task = resume(List.of(GPU, NIC));
    node.pod("source", GPU, NIC);

    TaskFailure failure = failure(node.resume(), task);

    assertEquals(Reason.POD_CHANGED, failure.reason());
    node.assertState(STOP, GPU, NIC);
  }

  @Test
  void aDeviceThePodNoLongerHoldsFailsDeviceNotHeld() throws Exception {
    pod = node.pod("source", GPU);
    RecordedTask task = resume(List.of(GPU, NIC));

    TaskFailure failure = failure(node.resume(), task);

    assertEquals(Reason.DEVICE_NOT_HELD, failure.reason());
    assertTrue(failure.getMessage().contains(NIC), failure.getMessage());
  }

  @Test
  void aDeviceNamedTwiceFailsInvalidSpec() throws Exception {
    TaskFailure failure = failure(node.resume(), resume(List.of(GPU, GPU)));

    assertEquals(Reason.INVALID_SPEC, failure.reason());
    node.assertState(STOP, GPU, NIC);
  }
}
