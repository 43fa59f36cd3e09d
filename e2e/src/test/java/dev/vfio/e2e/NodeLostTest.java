package dev.vfio.e2e;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vfio.api.v1alpha1.Condition;
import dev.vfio.api.v1alpha1.Reason;
import dev.vfio.api.v1alpha1.SnapshotPhase;
import dev.vfio.api.v1alpha1.VfioSnapshot;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An agent killed for good: its node is lost once it has been silent for twice the heartbeat
 * timeout, short here (5s against the agents' 2s heartbeat) to keep the scenario quick.
 */
class NodeLostTest extends ClusterTest {
  static final String DEVICE = "0000:84:00.0";

  @BeforeAll
  static void start(@TempDir Path work) throws Exception {
    startCluster(
        work,
        List.of(SnapshotFailureTest.slow(DEVICE, 32 << 20)),
        List.of(),
        Map.of("VFIO_AGENT_HEARTBEAT_TIMEOUT", "5s"));
  }

  @Test
  void aSnapshotWhoseAgentNeverComesBackFailsNodeLostAndCanBeDeleted() throws Exception {
    cluster.runningPod(NS, "lost-pod", "node-a", DEVICE);
    createSnapshot("orphaned", "lost-pod", spec -> {});
    await("saving")
        .atMost(PATIENCE)
        .until(
            () -> {
              VfioSnapshot current = cluster.snapshot(NS, "orphaned");
              return current.getStatus() != null
                  && current.getStatus().getProgress() != null
                  && current.getStatus().getProgress().getBytesDone() > 0;
            });

    cluster.node("node-a").agent().kill();

    Condition ready = readyCondition(awaitPhase("orphaned", SnapshotPhase.Failed));
    assertEquals(Reason.NODE_LOST.wire(), ready.getReason());
    assertTrue(
        ready.getMessage().contains("on node node-a")
            && ready.getMessage().contains("no heartbeat for"),
        ready.getMessage());

    client.resource(cluster.snapshot(NS, "orphaned")).delete();
    await("the snapshot deleted without its agent")
        .atMost(PATIENCE)
        .until(() -> cluster.snapshot(NS, "orphaned") == null);
  }
}
