package dev.vfio.agent.tasks;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vfio.agent.metrics.AgentMetrics;
import dev.vfio.api.v1alpha1.Reasons;
import dev.vfio.api.v1alpha1.TaskPhase;
import dev.vfio.api.v1alpha1.VfioNodeTask;
import dev.vfio.api.v1alpha1.VfioNodeTaskStatus;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.InputStream;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

@EnableKubernetesMockClient(crud = true)
class TaskWorkerTest {
  KubernetesClient client;
  TaskWorker worker;

  @BeforeEach
  void installCrd() throws Exception {
    try (InputStream crd = getClass().getResourceAsStream("/META-INF/fabric8/vfionodetasks.vfio.dev-v1.yml")) {
      client.resource(Serialization.unmarshal(crd, CustomResourceDefinition.class)).create();
    }
  }

  @AfterEach
  void stop() {
    if (worker != null) {
      worker.close();
    }
  }

  @Test
  void aTaskWithAValueThisAgentDoesNotKnowFailsNamingItAndTheWatchGoesOn() {
    worker = new TaskWorker(client, "node-a", "agent-1", Map.of(), 1, Clock.systemUTC(), Duration.ofSeconds(1),
        new AgentMetrics());
    worker.start();

    // As a newer operator writes it, created without the typed model, which could not hold it.
    GenericKubernetesResource task = Serialization.unmarshal("""
        {"apiVersion": "vfio.dev/v1alpha1", "kind": "VfioNodeTask",
         "metadata": {"name": "snap-save", "namespace": "default", "labels": {"vfio.dev/node": "node-a"}},
         "spec": {"operation": "Save", "nodeName": "node-a", "compression": "Gzip"}}
        """, GenericKubernetesResource.class);
    client.genericKubernetesResources(ResourceDefinitionContext.fromResourceType(VfioNodeTask.class))
        .inNamespace("default").resource(task).create();

    await().atMost(Duration.ofSeconds(30)).until(() -> status().getPhase(), TaskPhase.Failed::equals);
    assertEquals(Reasons.INVALID_SPEC, status().getReason());
    assertEquals("spec.compression: \"Gzip\" is not a value this agent knows (None, Zstd); the operator may be "
        + "newer than the agent: upgrade the node agent", status().getMessage());
    assertTrue(worker.watching());
  }

  private VfioNodeTaskStatus status() {
    VfioNodeTask task = client.resources(VfioNodeTask.class).inNamespace("default").withName("snap-save").get();
    return task.getStatus() == null ? new VfioNodeTaskStatus() : task.getStatus();
  }
}
