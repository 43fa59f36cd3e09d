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
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.InputStream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

@EnableKubernetesMockClient(crud = true)
class TaskStatusWriterTest {
  KubernetesClient client;

  @BeforeEach
  void installCrd() throws Exception {
    try (InputStream crd = getClass().getResourceAsStream("/META-INF/fabric8/vfionodetasks.vfio.dev-v1.yml")) {
      client.resource(Serialization.unmarshal(crd, CustomResourceDefinition.class)).create();
    }
  }

  @Test
  void claimSucceedsOnTheVersionItSawAndFailsOnAStaleOne() {
    VfioNodeTask task = new VfioNodeTask();
    task.setMetadata(new ObjectMetaBuilder().withName("snap-save").withNamespace("default").build());
    VfioNodeTaskSpec spec = new VfioNodeTaskSpec();
    spec.setOperation(TaskOperation.Save);
    spec.setNodeName("node-a");
    task.setSpec(spec);
    VfioNodeTask created = client.resource(task).create();
    TaskStatusWriter writer = new TaskStatusWriter(client);

    assertTrue(writer.claim(created, running("agent-1")));
    assertFalse(writer.claim(created, running("agent-2")), "a second claim on the old version must conflict");

    VfioNodeTask stored = client.resources(VfioNodeTask.class).inNamespace("default").withName("snap-save").get();
    assertEquals("agent-1", stored.getStatus().getClaimedBy());
    assertEquals(TaskPhase.Running, stored.getStatus().getPhase());
    assertEquals(TaskOperation.Save, stored.getSpec().getOperation(), "a status write leaves the spec alone");
  }

  private static VfioNodeTaskStatus running(String agent) {
    VfioNodeTaskStatus status = new VfioNodeTaskStatus();
    status.setPhase(TaskPhase.Running);
    status.setStage(Stage.Preparing);
    status.setClaimedBy(agent);
    return status;
  }
}
