package dev.vfio.agent.tasks;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vfio.agent.metrics.AgentMetrics;
import dev.vfio.api.v1alpha1.Reason;
import dev.vfio.api.v1alpha1.TaskOperation;
import dev.vfio.api.v1alpha1.TaskPhase;
import dev.vfio.api.v1alpha1.VfioNodeTask;
import dev.vfio.api.v1alpha1.VfioNodeTaskSpec;
import dev.vfio.api.v1alpha1.VfioNodeTaskStatus;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.InputStream;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The worker against the Fabric8 mock: what it claims, and when. */
@EnableKubernetesMockClient(crud = true)
class TaskWorkerTest {
  KubernetesClient client;
  final CountDownLatch release = new CountDownLatch(1);
  TaskWorker worker;

  @BeforeEach
  void installTheCrd() throws Exception {
    try (InputStream crd =
        getClass().getResourceAsStream("/META-INF/fabric8/vfionodetasks.vfio.dev-v1.yml")) {
      client.resource(Serialization.unmarshal(crd, CustomResourceDefinition.class)).create();
    }
    // Resume tasks that end only once the test lets them.
    NodeOperation waitForRelease =
        context -> {
          release.await();
          context.succeed(List.of(), null);
        };
    worker =
        new TaskWorker(
            client,
            "node-a",
            "agent-1",
            Map.of(TaskOperation.Resume, waitForRelease),
            1,
            1,
            Clock.systemUTC(),
            Duration.ofMillis(100),
            Duration.ofSeconds(10),
            new AgentMetrics());
  }

  @AfterEach
  void stop() {
    release.countDown();
    worker.close();
  }

  @Test
  void aTaskBeyondTheQueueWaitsUnclaimedSayingWhyAndRunsOnceOneEnded() {
    create("first");
    create("second");
    create("third");
    // The mock selects by no custom field: it gets every task, all of them node-a's.
    worker.start(client.resources(VfioNodeTask.class).inAnyNamespace());

    await().atMost(Duration.ofSeconds(30)).until(() -> phase("first") == TaskPhase.Running);
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> Reason.AGENT_BUSY.wire().equals(reason("third")));
    VfioNodeTaskStatus waiting = status("third");
    assertEquals(TaskPhase.Pending, waiting.getPhase());
    assertTrue(waiting.getMessage().contains("VFIO_TASK_QUEUE=1"), waiting.getMessage());
    assertEquals(null, waiting.getClaimedBy(), "not claimed");
    assertEquals(null, status("second"), "queued in memory, not yet claimed either");

    release.countDown();

    for (String name : List.of("first", "second", "third")) {
      await().atMost(Duration.ofSeconds(30)).until(() -> phase(name) == TaskPhase.Succeeded);
    }
  }

  @Test
  void aWaitingTaskCancelledEndsCancelledWithoutRunning() {
    create("first");
    create("second");
    create("third");
    // The mock selects by no custom field: it gets every task, all of them node-a's.
    worker.start(client.resources(VfioNodeTask.class).inAnyNamespace());
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> Reason.AGENT_BUSY.wire().equals(reason("third")));

    VfioNodeTask third =
        client.resources(VfioNodeTask.class).inNamespace("default").withName("third").get();
    third.getSpec().setCancelRequested(true);
    client.resource(third).update();

    await().atMost(Duration.ofSeconds(30)).until(() -> phase("third") == TaskPhase.Cancelled);
    assertEquals(TaskPhase.Running, phase("first"), "the running task goes on");
  }

  private void create(String name) {
    VfioNodeTask task = new VfioNodeTask();
    task.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace("default").build());
    VfioNodeTaskSpec spec = new VfioNodeTaskSpec();
    spec.setOperation(TaskOperation.Resume);
    spec.setNodeName("node-a");
    task.setSpec(spec);
    client.resource(task).create();
  }

  private VfioNodeTaskStatus status(String name) {
    return client
        .resources(VfioNodeTask.class)
        .inNamespace("default")
        .withName(name)
        .get()
        .getStatus();
  }

  private TaskPhase phase(String name) {
    VfioNodeTaskStatus status = status(name);
    return status == null ? null : status.getPhase();
  }

  private String reason(String name) {
    VfioNodeTaskStatus status = status(name);
    return status == null ? null : status.getReason();
  }
}
