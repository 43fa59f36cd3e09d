package dev.vfio.operator.migration;

import static dev.vfio.operator.migration.Fixtures.NOW;
import static dev.vfio.operator.migration.Fixtures.STARTED;
import static dev.vfio.operator.migration.Fixtures.created;
import static dev.vfio.operator.migration.Fixtures.readyReason;
import static dev.vfio.operator.migration.Fixtures.running;
import static dev.vfio.operator.migration.Fixtures.task;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vfio.api.v1alpha1.AfterSnapshot;
import dev.vfio.api.v1alpha1.Compression;
import dev.vfio.api.v1alpha1.Conditions;
import dev.vfio.api.v1alpha1.Digest;
import dev.vfio.api.v1alpha1.MigrationPhase;
import dev.vfio.api.v1alpha1.Reason;
import dev.vfio.api.v1alpha1.SourceState;
import dev.vfio.api.v1alpha1.Stage;
import dev.vfio.api.v1alpha1.TaskOperation;
import dev.vfio.api.v1alpha1.TaskPhase;
import dev.vfio.api.v1alpha1.VfioMigration;
import dev.vfio.api.v1alpha1.VfioMigrationStatus;
import dev.vfio.api.v1alpha1.VfioNodeTask;
import dev.vfio.api.v1alpha1.VfioNodeTaskSpec;
import dev.vfio.operator.reconcile.Plan;
import dev.vfio.operator.tasks.TaskAction;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class StorageFlowTest {
  final StorageFlow flow = new StorageFlow(Fixtures.steps(Fixtures.bothPods()), "vfio-snapshots");

  @Test
  void aStorageMigrationStartsWithASaveThatLeavesTheSourceStoppedAndNamesTheTarget() {
    Plan<VfioMigrationStatus> started =
        flow.start(Fixtures.storage(), Fixtures.livePlan(), STARTED);

    TaskAction.Create save = Fixtures.actions(started, TaskAction.Create.class).get(0);
    assertEquals(StorageFlow.SAVE, save.role());
    assertEquals(Map.of(StorageFlow.TARGET_UID, "target-uid"), save.annotations());
    VfioNodeTaskSpec spec = save.spec();
    assertEquals(TaskOperation.Save, spec.getOperation());
    assertEquals("node-a", spec.getNodeName());
    assertEquals(List.of("0000:3b:00.0"), spec.getDevices());
    assertEquals(AfterSnapshot.KeepStopped, spec.getAfterSave());
    assertEquals(Compression.None, spec.getCompression());
    assertEquals(Digest.None, spec.getDigest());
    assertEquals("vfio-snapshots", spec.getStorageClaim());
    assertEquals("default/vmig-mig-uid", spec.getBlobDirectory());
    assertEquals("mig-uid", spec.getBlobSetUid(), "the blobs are sealed for this migration");
  }

  @Test
  void theSourceIsStoppedForGoodOnceTheSaveSucceededUnlessAResumeRanIt() {
    VfioNodeTask saving =
        task(StorageFlow.SAVE, TaskOperation.Save, "node-a", "source-uid", TaskPhase.Running);
    VfioNodeTask saved =
        task(StorageFlow.SAVE, TaskOperation.Save, "node-a", "source-uid", TaskPhase.Succeeded);
    VfioNodeTask resumed =
        task(StorageFlow.RESUME, TaskOperation.Resume, "node-a", "source-uid", TaskPhase.Succeeded);

    assertEquals(SourceState.Running, flow.sourceState(Map.of(StorageFlow.SAVE, saving)));
    assertEquals(SourceState.Stopped, flow.sourceState(Map.of(StorageFlow.SAVE, saved)));
    assertEquals(
        SourceState.Running,
        flow.sourceState(Map.of(StorageFlow.SAVE, saved, StorageFlow.RESUME, resumed)));
  }

  @Test
  void whileTheSaveRunsItsProgressIsMirroredAndNothingElseStarts() {
    VfioNodeTask save =
        task(
            StorageFlow.SAVE,
            TaskOperation.Save,
            "node-a",
            "source-uid",
            TaskPhase.Running,
            status -> status.setStage(Stage.StopCopy));

    Plan<VfioMigrationStatus> next =
        flow.follow(running(Fixtures.storage()), Map.of(StorageFlow.SAVE, save), NOW);

    assertEquals(Stage.StopCopy, next.status().getStage());
    assertEquals(List.of(), next.tasks());
  }

  @Test
  void onceSavedTheLoadIntoTheTargetNamedByTheSaveIsCreated() {
    Plan<VfioMigrationStatus> next =
        flow.follow(running(Fixtures.storage()), Map.of(StorageFlow.SAVE, saved()), NOW);

    VfioNodeTaskSpec load = created(next, StorageFlow.LOAD);
    assertEquals("node-b", load.getNodeName());
    assertEquals("target", load.getPodName());
    assertEquals(
        "target-uid",
        load.getPodUid(),
        "the target the state was saved for, not whatever has its name now");
    assertEquals(List.of("0000:af:00.0"), load.getDevices());
    assertEquals("default/vmig-mig-uid", load.getBlobDirectory());
    assertEquals("mig-uid", load.getBlobSetUid(), "checked against what the Save sealed");
    assertNull(next.status(), "the status waits for the load");
  }

  @Test
  void aLoadThatSucceededEndsTheMigrationAndDeletesTheBlobsInTransit() {
    VfioNodeTask load =
        task(
            StorageFlow.LOAD,
            TaskOperation.Load,
            "node-b",
            "target-uid",
            TaskPhase.Succeeded,
            status -> status.setResumedAt(NOW.plusMillis(700).toString()));

    Plan<VfioMigrationStatus> next =
        flow.follow(
            running(Fixtures.storage()),
            Map.of(StorageFlow.SAVE, saved(), StorageFlow.LOAD, load),
            NOW.plusSeconds(1));

    assertEquals(MigrationPhase.Succeeded, next.status().getPhase());
    assertEquals(700L, next.status().getDowntimeMillis());
    VfioNodeTaskSpec cleanup = created(next, StorageFlow.CLEANUP);
    assertEquals(TaskOperation.DeleteBlobs, cleanup.getOperation());
    assertEquals("default/vmig-mig-uid", cleanup.getBlobDirectory());
  }

  @Test
  void aLoadThatFailedResumesTheSourceBeforeTheMigrationFails() {
    VfioNodeTask load =
        task(
            StorageFlow.LOAD,
            TaskOperation.Load,
            "node-b",
            "target-uid",
            TaskPhase.Failed,
            status -> status.setReason(Reason.STATE_REJECTED.wire()));

    Plan<VfioMigrationStatus> next =
        flow.follow(
            running(Fixtures.storage()),
            Map.of(StorageFlow.SAVE, saved(), StorageFlow.LOAD, load),
            NOW);

    VfioNodeTaskSpec resume = created(next, StorageFlow.RESUME);
    assertEquals(TaskOperation.Resume, resume.getOperation());
    assertEquals("node-a", resume.getNodeName());
    assertEquals(List.of("0000:3b:00.0"), resume.getDevices());
    assertEquals(Stage.RollingBack, next.status().getStage());
    assertEquals(Reason.STATE_REJECTED.wire(), readyReason(next));
    assertEquals(MigrationPhase.Running, next.status().getPhase());
  }

  @Test
  void whileTheSourceResumesNothingChanges() {
    Plan<VfioMigrationStatus> next =
        flow.follow(
            running(Fixtures.storage()),
            Map.of(
                StorageFlow.SAVE,
                saved(),
                StorageFlow.LOAD,
                failedLoad(),
                StorageFlow.RESUME,
                task(
                    StorageFlow.RESUME,
                    TaskOperation.Resume,
                    "node-a",
                    "source-uid",
                    TaskPhase.Running)),
            NOW);

    assertNull(next.status());
    assertTrue(next.tasks().isEmpty());
    assertEquals(FlowSteps.POLL, next.requeue());
  }

  @Test
  void onceTheSourceRunsAgainTheMigrationFailsWithTheLoadsReason() {
    VfioMigration migration = running(Fixtures.storage());
    migration.setStatus(
        flow.follow(
                migration, Map.of(StorageFlow.SAVE, saved(), StorageFlow.LOAD, failedLoad()), NOW)
            .status());

    Plan<VfioMigrationStatus> next =
        flow.follow(
            migration,
            Map.of(
                StorageFlow.SAVE,
                saved(),
                StorageFlow.LOAD,
                failedLoad(),
                StorageFlow.RESUME,
                task(
                    StorageFlow.RESUME,
                    TaskOperation.Resume,
                    "node-a",
                    "source-uid",
                    TaskPhase.Succeeded)),
            NOW);

    assertEquals(MigrationPhase.Failed, next.status().getPhase());
    assertEquals(Reason.STATE_REJECTED.wire(), readyReason(next));
    assertTrue(
        Conditions.find(next.status().getConditions(), Conditions.READY)
            .getMessage()
            .endsWith("; the source was resumed: Resume on node node-a: ended Succeeded"));
  }

  @Test
  void aSaveThatFailedEndsTheMigrationFailed() {
    VfioNodeTask save =
        task(
            StorageFlow.SAVE,
            TaskOperation.Save,
            "node-a",
            "source-uid",
            TaskPhase.Failed,
            status -> status.setReason(Reason.STORAGE_FULL.wire()));

    Plan<VfioMigrationStatus> next =
        flow.follow(running(Fixtures.storage()), Map.of(StorageFlow.SAVE, save), NOW);

    assertEquals(MigrationPhase.Failed, next.status().getPhase());
    assertEquals(Reason.STORAGE_FULL.wire(), readyReason(next));
  }

  @Test
  void aLoadOnALostNodeFailsTheMigrationNodeLostAndLeavesTheSourceStopped() {
    StorageFlow silentTarget =
        new StorageFlow(
            Fixtures.steps(Fixtures.bothPods(), Fixtures.nodeBSilentSinceStart()),
            "vfio-snapshots");
    VfioNodeTask load =
        task(StorageFlow.LOAD, TaskOperation.Load, "node-b", "target-uid", TaskPhase.Running);

    Plan<VfioMigrationStatus> next =
        silentTarget.follow(
            running(Fixtures.storage()),
            Map.of(StorageFlow.SAVE, saved(), StorageFlow.LOAD, load),
            Fixtures.SILENT_TOO_LONG);

    assertEquals(MigrationPhase.Failed, next.status().getPhase());
    assertEquals(Reason.NODE_LOST.wire(), readyReason(next));
    assertTrue(next.tasks().isEmpty(), "no Resume: the lost target may run the state");
    assertTrue(
        Conditions.find(next.status().getConditions(), Conditions.READY)
            .getMessage()
            .contains("the source pod's devices stay stopped"));
  }

  private static VfioNodeTask saved() {
    VfioNodeTask save =
        task(
            StorageFlow.SAVE,
            TaskOperation.Save,
            "node-a",
            "source-uid",
            TaskPhase.Succeeded,
            status -> status.setStoppedAt(NOW.toString()));
    save.getMetadata().setAnnotations(Map.of(StorageFlow.TARGET_UID, "target-uid"));
    save.getSpec().setPodName("source");
    save.getSpec().setStorageClaim("vfio-snapshots");
    save.getSpec().setBlobDirectory("default/vmig-mig-uid");
    save.getSpec().setBlobSetUid("mig-uid");
    return save;
  }

  private static VfioNodeTask failedLoad() {
    return task(
        StorageFlow.LOAD,
        TaskOperation.Load,
        "node-b",
        "target-uid",
        TaskPhase.Failed,
        status -> status.setReason(Reason.STATE_REJECTED.wire()));
  }
}
