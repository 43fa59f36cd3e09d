package dev.vfio.operator.status;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;

import dev.vfio.api.v1alpha1.SnapshotPhase;
import dev.vfio.api.v1alpha1.VfioSnapshot;
import dev.vfio.api.v1alpha1.VfioSnapshotSpec;
import dev.vfio.api.v1alpha1.VfioSnapshotStatus;
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
class StatusPatcherTest {
  KubernetesClient client;
  KubernetesMockServer server;
  VfioSnapshot stale;

  @BeforeEach
  void createSnapshot() throws Exception {
    try (InputStream crd = getClass().getResourceAsStream("/vfio-crds/vfiosnapshots.vfio.dev.yaml")) {
      client.resource(Serialization.unmarshal(crd, CustomResourceDefinition.class)).create();
    }
    VfioSnapshot snapshot = new VfioSnapshot();
    snapshot.setMetadata(new ObjectMetaBuilder().withName("snap").withNamespace("default").build());
    snapshot.setSpec(new VfioSnapshotSpec());
    stale = client.resource(snapshot).create();
  }

  @Test
  void aStatusComputedFromACacheThatLagsDoesNotUndoTheLastWrite() {
    StatusPatcher patcher = new StatusPatcher(client);
    VfioSnapshotStatus running = new VfioSnapshotStatus();
    running.setPhase(SnapshotPhase.Running);
    running.setNodeName("node-a");
    patcher.patchIfChanged(stale, running);

    VfioSnapshot seen = patcher.fresh(stale);

    assertEquals("node-a", seen.getStatus().getNodeName(), "the cache still holds the old version");
    VfioSnapshot stored = client.resources(VfioSnapshot.class).inNamespace("default").withName("snap").get();
    assertSame(stored, patcher.fresh(stored), "once the cache caught up, it is used as it is");
    assertFalse(patcher.patchIfChanged(stored, running), "an unchanged status is not written again");
  }

  @Test
  void aStatusWriteIsOneRequest() throws Exception {
    VfioSnapshotStatus running = new VfioSnapshotStatus();
    running.setPhase(SnapshotPhase.Running);
    int before = server.getRequestCount();

    new StatusPatcher(client).patchIfChanged(stale, running);

    assertEquals(1, server.getRequestCount() - before, "the patch only, no read before it");
    assertEquals(SnapshotPhase.Running, client.resources(VfioSnapshot.class).inNamespace("default")
        .withName("snap").get().getStatus().getPhase());
  }
}
