package dev.vfio.agent.tasks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

@EnableKubernetesMockClient(crud = true)
class TaskStatusWriterTest {
  KubernetesClient client;
  KubernetesMockServer server;

  @BeforeEach
  void installCrd() throws Exception {
    try (InputStream crd =
        getClass().getResourceAsStream("/META-INF/fabric8/vfionodetasks.vfio.dev-v1.yml")) {
      client.resource(Serialization.unmarshal(crd, CustomResourceDefinition.class)).create();
    }
  }

  @Test
  void claimSucceedsOnTheVersionItSawAndFailsOnAStaleOne() {
    VfioNodeTask created = createTask();
    TaskStatusWriter writer = new TaskStatusWriter(client);

    assertTrue(writer.claim(created, running("agent-1")));
    assertFalse(
        writer.claim(created, running("agent-2")),
        "a second claim on the old version must conflict");

    VfioNodeTask stored =
        client.resources(VfioNodeTask.class).inNamespace("default").withName("snap-save").get();
    assertEquals("agent-1", stored.getStatus().getClaimedBy());
    assertEquals(TaskPhase.Running, stored.getStatus().getPhase());
    assertEquals(
        TaskOperation.Save,
        stored.getSpec().getOperation(),
        "a status write leaves the spec alone");
  }

  @Test
  void claimOfADeletedTaskFails() {
    VfioNodeTask created = createTask();
    client.resource(created).delete();

    assertFalse(new TaskStatusWriter(client).claim(created, running("agent-1")));
  }

  @Test
  void everyStatusWriteIsOneRequest() throws Exception {
    VfioNodeTask created = createTask();
    TaskStatusWriter writer = new TaskStatusWriter(client);
    int before = server.getRequestCount();

    writer.claim(created, running("agent-1"));
    writer.write(created, running("agent-1"));

    assertEquals(2, server.getRequestCount() - before, "two patches, no read before either");
  }

  private VfioNodeTask createTask() {
    VfioNodeTask task = new VfioNodeTask();
    task.setMetadata(
        new ObjectMetaBuilder().withName("snap-save").withNamespace("default").build());
    VfioNodeTaskSpec spec = new VfioNodeTaskSpec();
    spec.setOperation(TaskOperation.Save);
    spec.setNodeName("node-a");
    task.setSpec(spec);
    return client.resource(task).create();
  }

  private static VfioNodeTaskStatus running(String agent) {
    VfioNodeTaskStatus status = new VfioNodeTaskStatus();
    status.setPhase(TaskPhase.Running);
    status.setStage(Stage.Preparing);
    status.setClaimedBy(agent);
    return status;
  }
}
