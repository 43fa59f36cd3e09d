package dev.vfio.agent.pods;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

@EnableKubernetesMockClient(crud = true)
class NodePodsTest {
  KubernetesClient client;
  KubernetesMockServer server;
  NodePods pods;

  @BeforeEach
  void watch() {
    // The test server does not filter pods by spec.nodeName; NodePods filters them again itself.
    pods = new NodePods(client, "node-a", client.pods().inAnyNamespace().runnableInformer(0));
  }

  @AfterEach
  void stopWatch() {
    pods.close();
  }

  @Test
  void aPodTheWatchHasIsFoundWithoutARequest() {
    Pod created = client.resource(pod("gpu-workload", "node-a")).create();
    client.resource(pod("elsewhere", "node-b")).create();
    pods.start();
    await().atMost(Duration.ofSeconds(30)).until(() -> !pods.all().isEmpty());
    int before = server.getRequestCount();

    Pod found = pods.find("default", "gpu-workload", created.getMetadata().getUid());

    assertEquals(created.getMetadata().getUid(), found.getMetadata().getUid());
    assertEquals(0, server.getRequestCount() - before);
    assertEquals(1, pods.all().size(), "only the pods of this node");
  }

  @Test
  void aPodTheWatchHasNotSeenIsReadFromTheApiServer() {
    pods.start();
    Pod created = client.resource(pod("gpu-workload", "node-a")).create();

    Pod found = pods.find("default", "gpu-workload", created.getMetadata().getUid());

    assertEquals(created.getMetadata().getUid(), found.getMetadata().getUid());
    assertNull(pods.find("default", "no-such-pod", "0"));
  }

  private static Pod pod(String name, String node) {
    return new PodBuilder()
        .withNewMetadata()
        .withNamespace("default")
        .withName(name)
        .endMetadata()
        .withNewSpec()
        .withNodeName(node)
        .endSpec()
        .build();
  }
}
