package dev.vfio.agent.tasks;

import static dev.vfio.agent.tasks.TaskFixture.failure;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vfio.agent.pods.PodRef;
import dev.vfio.agent.sim.SimulatedDeviceSpec;
import dev.vfio.api.v1alpha1.Reason;
import dev.vfio.api.v1alpha1.TaskOperation;
import dev.vfio.api.v1alpha1.TaskPhase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DeleteBlobsOperationTest {
  static final String GPU = "0000:3b:00.0";

  @TempDir Path directory;
  @AutoClose TaskFixture node;
  PodRef pod;

  @BeforeEach
  void saveASnapshot() throws Exception {
    node = TaskFixture.create(directory, SimulatedDeviceSpec.of(GPU, 64 * 1024));
    pod = node.pod("workload", GPU);
    node.saveSnapshot(pod, "snap", List.of(GPU), spec -> {});
    assertTrue(Files.exists(node.blob("snap", GPU)));
  }

  RecordedTask delete(String claim, String blobDirectory) {
    return node.task(
        TaskOperation.DeleteBlobs,
        pod,
        spec -> {
          spec.setStorageClaim(claim);
          spec.setBlobDirectory(blobDirectory);
        });
  }

  @Test
  void removesTheSnapshotsDirectory() throws Exception {
    RecordedTask task = delete(TaskFixture.CLAIM, TaskFixture.NAMESPACE + "/snap");

    node.deleteBlobs().run(task.context);

    assertEquals(TaskPhase.Succeeded, task.last().getPhase());
    assertFalse(Files.exists(node.blob("snap", GPU).getParent()));
  }

  @Test
  void aClaimThisAgentDoesNotMountFailsStorageClaimUnknown() {
    TaskFailure failure =
        failure(node.deleteBlobs(), delete("elsewhere", TaskFixture.NAMESPACE + "/snap"));

    assertEquals(Reason.STORAGE_CLAIM_UNKNOWN, failure.reason());
    assertTrue(Files.exists(node.blob("snap", GPU)));
  }

  @Test
  void aBlobDirectoryThatIsNotNamespaceSlashSnapshotFailsInvalidSpec() {
    TaskFailure failure = failure(node.deleteBlobs(), delete(TaskFixture.CLAIM, "snap"));

    assertEquals(Reason.INVALID_SPEC, failure.reason());
    assertTrue(Files.exists(node.blob("snap", GPU)));
  }

  @Test
  void aBlobDirectoryOfAnotherNamespaceFailsInvalidSpecAndDeletesNothing() {
    TaskFailure failure =
        failure(node.deleteBlobs(), delete(TaskFixture.CLAIM, "someone-else/snap"));

    assertEquals(Reason.INVALID_SPEC, failure.reason());
    assertTrue(failure.getMessage().contains("outside the task's namespace"), failure::getMessage);
    assertTrue(Files.exists(node.blob("snap", GPU)));
  }
}
