package dev.vfio.operator.status;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

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
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** On the Fabric8 mock: what the writer is about is the requests it sends. */
@EnableKubernetesMockClient(crud = true)
class StatusWriterTest {
  KubernetesClient client;
  KubernetesMockServer server;
  VfioSnapshot created;
  final List<VfioSnapshot> remembered = new ArrayList<>();
  StatusWriter<VfioSnapshot, VfioSnapshotStatus> writer;

  @BeforeEach
  void createSnapshot() throws Exception {
    try (InputStream crd =
        getClass().getResourceAsStream("/vfio-crds/vfiosnapshots.vfio.dev.yaml")) {
      client.resource(Serialization.unmarshal(crd, CustomResourceDefinition.class)).create();
    }
    VfioSnapshot snapshot = new VfioSnapshot();
    snapshot.setMetadata(new ObjectMetaBuilder().withName("snap").withNamespace("default").build());
    snapshot.setSpec(new VfioSnapshotSpec());
    created = client.resource(snapshot).create();
    writer = new StatusWriter<>(client, (context, written, over) -> remembered.add(written));
  }

  @Test
  void aWriteIsOneRequestAndIsRememberedForTheNextPass() {
    int before = server.getRequestCount();

    assertEquals(StatusWriter.Outcome.WRITTEN, writer.write(created, running("node-a"), null));

    assertEquals(1, server.getRequestCount() - before, "the patch only, no read before it");
    assertEquals(1, remembered.size());
    assertEquals("node-a", remembered.get(0).getStatus().getNodeName());
    assertEquals("node-a", stored().getStatus().getNodeName());
  }

  @Test
  void anUnchangedStatusIsNotWrittenAgain() {
    writer.write(created, running("node-a"), null);
    int before = server.getRequestCount();

    assertEquals(
        StatusWriter.Outcome.UNCHANGED, writer.write(remembered.get(0), running("node-a"), null));

    assertEquals(0, server.getRequestCount() - before);
  }

  @Test
  void aStatusComputedFromACopyOlderThanTheLastWriteIsNotWritten() {
    writer.write(created, running("node-a"), null);

    // Computed from the copy the first write went over, as from a cache that lags.
    assertEquals(StatusWriter.Outcome.CONFLICT, writer.write(created, running("node-b"), null));

    assertEquals("node-a", stored().getStatus().getNodeName(), "the first write stands");
    assertEquals(1, remembered.size());
  }

  @Test
  void nothingIsWrittenOverAnObjectThatChangedInAnotherWay() {
    VfioSnapshot labelled = stored();
    labelled.getMetadata().setLabels(Map.of("team", "a"));
    client.resource(labelled).update();

    assertEquals(StatusWriter.Outcome.CONFLICT, writer.write(created, running("node-a"), null));

    assertNull(stored().getStatus());
  }

  private static VfioSnapshotStatus running(String node) {
    VfioSnapshotStatus status = new VfioSnapshotStatus();
    status.setPhase(SnapshotPhase.Running);
    status.setNodeName(node);
    return status;
  }

  private VfioSnapshot stored() {
    return client.resources(VfioSnapshot.class).inNamespace("default").withName("snap").get();
  }
}
