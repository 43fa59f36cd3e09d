package dev.vfio.agent.journal;

import dev.vfio.agent.tasks.TaskStatusWriter;
import dev.vfio.api.v1alpha1.Reason;
import dev.vfio.api.v1alpha1.Stage;
import dev.vfio.api.v1alpha1.TaskPhase;
import dev.vfio.api.v1alpha1.VfioNodeTask;
import dev.vfio.api.v1alpha1.VfioNodeTaskStatus;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * At agent start, ends the tasks of this node that an earlier agent process was running: they
 * cannot resume (the device sessions died with the process), so they fail with a reason that says
 * so and a message listing what journal replay undid.
 */
public final class InterruptedTasks {
  private static final Logger LOG = LoggerFactory.getLogger(InterruptedTasks.class);
  private final KubernetesClient client;
  private final TaskStatusWriter writer;
  private final String nodeName;
  private final String agentId;
  private final Clock clock;

  public InterruptedTasks(
      KubernetesClient client,
      TaskStatusWriter writer,
      String nodeName,
      String agentId,
      Clock clock) {
    this.client = client;
    this.writer = writer;
    this.nodeName = nodeName;
    this.agentId = agentId;
    this.clock = clock;
  }

  public void fail(List<JournalReplay.Replayed> replayed, Reason reason) {
    Map<String, JournalReplay.Replayed> byUid =
        replayed.stream()
            .filter(r -> r.taskUid() != null)
            .collect(
                Collectors.toMap(
                    JournalReplay.Replayed::taskUid, Function.identity(), (a, b) -> a));
    List<VfioNodeTask> tasks =
        client
            .resources(VfioNodeTask.class)
            .inAnyNamespace()
            .withField(VfioNodeTask.NODE_FIELD, nodeName)
            .list()
            .getItems();
    for (VfioNodeTask task : tasks) {
      VfioNodeTaskStatus status = task.getStatus();
      if (status == null
          || status.getPhase() != TaskPhase.Running
          || agentId.equals(status.getClaimedBy())) {
        continue;
      }
      JournalReplay.Replayed undone = byUid.get(task.getMetadata().getUid());
      VfioNodeTaskStatus failed = Serialization.clone(status);
      failed.setPhase(TaskPhase.Failed);
      failed.setStage(Stage.Done);
      failed.setReason(reason.wire());
      failed.setMessage(
          "the node agent restarted while the task ran; "
              + (undone == null || undone.actions().isEmpty()
                  ? "it had not touched any device yet"
                  : "on restart: " + String.join("; ", undone.actions()))
              + ". Create the resource again to retry");
      failed.setCompletionTime(clock.instant().toString());
      writer.write(task, failed);
      LOG.info(
          "failed interrupted task {}/{}",
          task.getMetadata().getNamespace(),
          task.getMetadata().getName());
    }
  }
}
