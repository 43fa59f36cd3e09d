package dev.vfio.agent.journal;

import dev.vfio.agent.tasks.Switchover;
import dev.vfio.agent.tasks.TaskStore;
import dev.vfio.api.v1alpha1.Reason;
import dev.vfio.api.v1alpha1.Stage;
import dev.vfio.api.v1alpha1.TaskOperation;
import dev.vfio.api.v1alpha1.TaskPhase;
import dev.vfio.api.v1alpha1.VfioNodeTask;
import dev.vfio.api.v1alpha1.VfioNodeTaskStatus;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.time.Clock;

/**
 * What replay does with the entry of a Send or a Receive that an earlier agent process left: the
 * operator's switchover decision says it, never the entry alone. Committed, the source stays
 * stopped and the target runs; otherwise the task is first ended with a write conditional on the
 * task as read ({@link Switchover}) and only then are the devices undone; a task that is gone
 * leaves what is safe either way (the source stopped, the target reset).
 */
final class SwitchoverReplay {
  /** What is left for replay to do to the devices. */
  enum Undo {
    /** Nothing: the source stays stopped. */
    KEEP_STOPPED,
    /** The usual undo: every device back to RUNNING, the pod thawed. */
    RESUME,
    /** The target devices reset, so that they never run the state. */
    DISCARD,
    /** The target devices to RUNNING with the state: the switchover was committed. */
    RUN,
    /** Nothing, and the entry set aside: nobody can tell whether the target runs. */
    SET_ASIDE
  }

  private final TaskStore tasks;
  private final Clock clock;

  SwitchoverReplay(TaskStore tasks, Clock clock) {
    this.tasks = tasks;
    this.clock = clock;
  }

  /** Settles the entry's task; returns what the devices need. */
  Undo settle(JournalEntry entry) throws InterruptedException {
    boolean send = entry.operation() == TaskOperation.Send;
    Switchover.Outcome outcome =
        Switchover.settle(
            tasks,
            task(entry),
            stored ->
                ended(
                    stored,
                    TaskPhase.Failed,
                    "the node agent restarted before the switchover was committed; "
                        + (send ? "the source devices run again" : "the target devices are reset")
                        + ". Create the migration again to retry"));
    return switch (outcome) {
      case COMMITTED -> send ? Undo.KEEP_STOPPED : Undo.RUN;
      case ABORTED -> send ? Undo.RESUME : Undo.DISCARD;
      case UNKNOWN -> send ? Undo.SET_ASIDE : Undo.DISCARD;
    };
  }

  /** After a committed entry was carried out: its task succeeded, if it does not say so yet. */
  void succeeded(JournalEntry entry) throws InterruptedException {
    Switchover.record(
        tasks,
        task(entry),
        stored ->
            stored != null && stored.getPhase() == TaskPhase.Succeeded
                ? stored
                : ended(stored, TaskPhase.Succeeded, entry.operation() == TaskOperation.Receive));
  }

  /** After a committed target could not run the state: it failed, and its devices are reset. */
  void failed(JournalEntry entry, String why) throws InterruptedException {
    Switchover.record(
        tasks,
        task(entry),
        stored ->
            ended(
                stored,
                TaskPhase.Failed,
                "the node agent restarted after the switchover was committed, and the target"
                    + " could not run the state: "
                    + why
                    + "; its devices are reset, and the source runs again"));
  }

  private VfioNodeTaskStatus ended(VfioNodeTaskStatus stored, TaskPhase phase, boolean targetRuns) {
    VfioNodeTaskStatus ended = ended(stored, phase, (String) null);
    if (targetRuns && ended.getResumedAt() == null) {
      ended.setResumedAt(clock.instant().toString());
    }
    return ended;
  }

  private VfioNodeTaskStatus ended(VfioNodeTaskStatus stored, TaskPhase phase, String message) {
    VfioNodeTaskStatus ended =
        stored == null ? new VfioNodeTaskStatus() : Serialization.clone(stored);
    ended.setPhase(phase);
    ended.setStage(Stage.Done);
    if (phase == TaskPhase.Succeeded) {
      ended.setReason(null);
      ended.setMessage(null);
    } else {
      ended.setReason(Reason.AGENT_RESTARTED.wire());
      ended.setMessage(message);
    }
    ended.setCompletionTime(clock.instant().toString());
    return ended;
  }

  private static VfioNodeTask task(JournalEntry entry) {
    VfioNodeTask task = new VfioNodeTask();
    task.setMetadata(
        new ObjectMetaBuilder()
            .withNamespace(entry.taskNamespace())
            .withName(entry.taskName())
            .withUid(entry.taskUid())
            .build());
    return task;
  }
}
