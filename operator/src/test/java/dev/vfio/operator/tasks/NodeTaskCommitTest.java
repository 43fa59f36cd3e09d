package dev.vfio.operator.tasks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vfio.api.v1alpha1.SwitchoverDecision;
import dev.vfio.api.v1alpha1.TaskOperation;
import dev.vfio.api.v1alpha1.VfioNodeTask;
import dev.vfio.api.v1alpha1.VfioNodeTaskSpec;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The operator's half of the two-phase switchover as the API server sees it: the CRUD mock ignores
 * preconditions, so these answers are scripted the way a real API server gives them.
 */
@EnableKubernetesMockClient
class NodeTaskCommitTest {
  static final String PATH = "/apis/vfio.dev/v1alpha1/namespaces/default/vfionodetasks/move-send";

  KubernetesClient client;
  KubernetesMockServer server;

  @Test
  void theCommitIsAPatchPreconditionedOnTheResourceVersionTheTaskWasSeenAt() throws Exception {
    server.expect().patch().withPath(PATH).andReturn(200, task("8")).once();

    assertTrue(new NodeTasks(client, new TaskMap()).commit(task("7")));

    RecordedRequest patch = server.takeRequest(5, TimeUnit.SECONDS);
    assertEquals("PATCH", patch.getMethod());
    List<?> operations = Serialization.unmarshal(patch.getBody().readUtf8(), List.class);
    assertEquals(
        List.of(
            Map.of("op", "add", "path", "/metadata/resourceVersion", "value", "7"),
            Map.of("op", "add", "path", "/spec/switchover", "value", "Commit")),
        operations);
  }

  @ParameterizedTest
  @ValueSource(ints = {409, 404})
  void aTaskItsAgentEndedOrThatIsGoneIsNotCommitted(int answer) {
    server.expect().patch().withPath(PATH).andReturn(answer, "{}").once();

    assertFalse(
        new NodeTasks(client, new TaskMap()).commit(task("7")),
        "the agent's ending stands; the next pass reads the task again");
  }

  @Test
  void anyOtherRefusalIsAnErrorTheReconciliationRetries() {
    // Forbidden, as an admission policy answers a credential that may not commit.
    server.expect().patch().withPath(PATH).andReturn(403, "{}").once();

    assertThrows(
        KubernetesClientException.class,
        () -> new NodeTasks(client, new TaskMap()).commit(task("7")));
  }

  @Test
  void aCommittedTaskIsNotPatchedAgain() {
    VfioNodeTask committed = task("7");
    committed.getSpec().setSwitchover(SwitchoverDecision.Commit);

    assertTrue(new NodeTasks(client, new TaskMap()).commit(committed));
    assertEquals(0, server.getRequestCount());
  }

  private static VfioNodeTask task(String resourceVersion) {
    VfioNodeTask task = new VfioNodeTask();
    task.setMetadata(
        new ObjectMetaBuilder()
            .withName("move-send")
            .withNamespace("default")
            .withResourceVersion(resourceVersion)
            .build());
    VfioNodeTaskSpec spec = new VfioNodeTaskSpec();
    spec.setOperation(TaskOperation.Send);
    spec.setNodeName("node-a");
    task.setSpec(spec);
    return task;
  }
}
