package dev.vfio.agent.tasks;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.vfio.api.v1alpha1.Stage;
import dev.vfio.api.v1alpha1.TaskOperation;
import dev.vfio.api.v1alpha1.TaskPhase;
import dev.vfio.api.v1alpha1.VfioNodeTask;
import dev.vfio.api.v1alpha1.VfioNodeTaskSpec;
import dev.vfio.api.v1alpha1.VfioNodeTaskStatus;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.InputStream;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

@EnableKubernetesMockClient(crud = true)
class TaskContextTest {
  KubernetesClient client;
  KubernetesMockServer server;
  final ScheduledExecutorService delayedReports = Executors.newSingleThreadScheduledExecutor();
  TaskStatusWriter writer;
  VfioNodeTask task;
  VfioNodeTaskStatus claimed;

  @BeforeEach
  void claimATask() throws Exception {
    try (InputStream crd =
        getClass().getResourceAsStream("/META-INF/fabric8/vfionodetasks.vfio.dev-v1.yml")) {
      client.resource(Serialization.unmarshal(crd, CustomResourceDefinition.class)).create();
    }
    VfioNodeTask created = new VfioNodeTask();
    created.setMetadata(
        new ObjectMetaBuilder().withName("snap-save").withNamespace("default").build());
    VfioNodeTaskSpec spec = new VfioNodeTaskSpec();
    spec.setOperation(TaskOperation.Save);
    spec.setNodeName("node-a");
    created.setSpec(spec);
    task = client.resource(created).create();
    claimed = new VfioNodeTaskStatus();
    claimed.setPhase(TaskPhase.Running);
    claimed.setStage(Stage.Preparing);
    writer = new TaskStatusWriter(client);
    writer.claim(task, claimed);
  }

  @AfterEach
  void stopReports() {
    delayedReports.shutdownNow();
  }

  @Test
  void stagesPassedWithinTheReportIntervalAreWrittenOnlyWithTheOutcome() {
    TaskContext context =
        new TaskContext(
            task,
            claimed,
            writer::write,
            writer,
            Clock.systemUTC(),
            Duration.ofHours(1),
            delayedReports);
    int before = server.getRequestCount();

    context.stage(Stage.Quiescing);
    context.stage(Stage.StopCopy);
    context.addBytes(64 * 1024);
    context.stage(Stage.Resuming);
    context.succeed(List.of(), 3L);

    assertEquals(1, server.getRequestCount() - before, "one write: the outcome");
    VfioNodeTaskStatus stored = stored();
    assertEquals(TaskPhase.Succeeded, stored.getPhase());
    assertEquals(Stage.Done, stored.getStage());
    assertEquals(64 * 1024, stored.getBytesDone());
  }

  @Test
  void aStageThatLastsIsWrittenOnceTheIntervalPassed() {
    TaskContext context =
        new TaskContext(
            task,
            claimed,
            writer::write,
            writer,
            Clock.systemUTC(),
            Duration.ofMillis(100),
            delayedReports);

    context.stage(Stage.StopCopy);

    await().atMost(Duration.ofSeconds(30)).until(() -> stored().getStage() == Stage.StopCopy);
  }

  @Test
  void aRunningTaskThatReportsNothingStillWritesItsHeartbeat() {
    claimed.setHeartbeatTime(Instant.now().minus(Duration.ofMinutes(1)).toString());
    writer.write(task, claimed);
    try (TaskContext context =
        new TaskContext(
            task,
            claimed,
            writer::write,
            writer,
            Clock.systemUTC(),
            Duration.ofHours(1),
            Duration.ofMillis(200),
            delayedReports)) {
      Instant started = Instant.now();

      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> !Instant.parse(stored().getHeartbeatTime()).isBefore(started));

      assertEquals(TaskPhase.Running, stored().getPhase());
      assertEquals(Stage.Preparing, stored().getStage(), "a heartbeat is no report of progress");
    }
  }

  private VfioNodeTaskStatus stored() {
    return client
        .resources(VfioNodeTask.class)
        .inNamespace("default")
        .withName("snap-save")
        .get()
        .getStatus();
  }
}
