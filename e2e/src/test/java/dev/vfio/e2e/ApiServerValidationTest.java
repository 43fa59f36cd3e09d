package dev.vfio.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vfio.api.v1alpha1.VfioNodeTask;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shipped CRDs on a real API server: it accepted them (structural schemas, every CEL rule
 * compiled within its cost budget — otherwise the harness would not have seen them Established),
 * and it refuses bad objects itself, with a 422 and the rule's message, before the operator sees
 * them; and it selects VfioNodeTasks by the field the agents select theirs by. No operator or agent
 * runs here.
 */
class ApiServerValidationTest {
  private static final String SUBDOMAIN = "must be a lowercase RFC 1123 subdomain";
  private static LocalCluster cluster;
  private static KubernetesClient client;

  /**
   * VfioNodeTasks are the operator's to write (the chart's admission policy): they are created as
   * the operator.
   */
  private static KubernetesClient operator;

  @BeforeAll
  static void start(@TempDir Path work) throws Exception {
    cluster = LocalCluster.start(work);
    client = cluster.client();
    operator = cluster.operatorClient();
  }

  @AfterAll
  static void stop() {
    if (operator != null) {
      operator.close();
    }
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  void everyCrdIsEstablishedWithItsPrinterColumnsAndShortNames() {
    CustomResourceDefinition snapshots =
        client
            .apiextensions()
            .v1()
            .customResourceDefinitions()
            .withName("vfiosnapshots.vfio.dev")
            .get();
    assertTrue(snapshots.getSpec().getNames().getShortNames().contains("vsnap"));
    assertTrue(
        snapshots.getStatus().getConditions().stream()
            .anyMatch(c -> c.getType().equals("NamesAccepted") && c.getStatus().equals("True")));
  }

  @Test
  void aValidSnapshotIsStored() {
    GenericKubernetesResource stored =
        client
            .resource(
                object(
                    """
        apiVersion: vfio.dev/v1alpha1
        kind: VfioSnapshot
        metadata: {name: valid, namespace: default}
        spec: {podName: gpu-workload, devices: ["0000:3b:00.0"], timeout: 10m, ttl: 24h}
        """))
            .create();
    assertEquals(
        "gpu-workload",
        ((java.util.Map<?, ?>) stored.getAdditionalProperties().get("spec")).get("podName"));
  }

  @Test
  void aSnapshotWithoutPodNameIsRefusedByTheApiServer() {
    assertRefused(
        """
        apiVersion: vfio.dev/v1alpha1
        kind: VfioSnapshot
        metadata: {name: no-pod, namespace: default}
        spec: {devices: ["0000:3b:00.0"]}
        """,
        "podName is required");
  }

  @Test
  void aSnapshotOfAMalformedDeviceIsRefusedByTheApiServer() {
    assertRefused(
        """
        apiVersion: vfio.dev/v1alpha1
        kind: VfioSnapshot
        metadata: {name: bad-device, namespace: default}
        spec: {podName: gpu-workload, devices: ["3b:00.0"]}
        """,
        "devices are lowercase PCI addresses (0000:65:00.0) or mdev UUIDs");
  }

  @Test
  void aSnapshotWithAMalformedDurationIsRefusedByTheApiServer() {
    assertRefused(
        """
        apiVersion: vfio.dev/v1alpha1
        kind: VfioSnapshot
        metadata: {name: bad-timeout, namespace: default}
        spec: {podName: gpu-workload, timeout: ten minutes}
        """,
        "must be a duration such as 90s, 10m or 1h30m");
  }

  @Test
  void aSnapshotWithoutSpecIsRefusedByTheApiServer() {
    assertRefused(
        """
        apiVersion: vfio.dev/v1alpha1
        kind: VfioSnapshot
        metadata: {name: no-spec, namespace: default}
        """,
        "spec: Required value");
  }

  @Test
  void aSnapshotListingADeviceTwiceIsRefusedByTheApiServer() {
    assertRefused(
        """
        apiVersion: vfio.dev/v1alpha1
        kind: VfioSnapshot
        metadata: {name: twice, namespace: default}
        spec: {podName: gpu-workload, devices: ["0000:3b:00.0", "0000:3b:00.0"]}
        """,
        "spec.devices[1]: Duplicate value: \"0000:3b:00.0\"");
  }

  @Test
  void aSnapshotWithDurationsAtTheirMaximaIsStored() {
    // The server's duration() parses every form Durations does, up to the maxima.
    GenericKubernetesResource stored =
        client
            .resource(
                object(
                    """
        apiVersion: vfio.dev/v1alpha1
        kind: VfioSnapshot
        metadata: {name: longest, namespace: default}
        spec: {podName: gpu-workload, timeout: 23h59m59s1000ms, ttl: "0087600h"}
        """))
            .create();

    assertEquals(
        "0087600h",
        ((java.util.Map<?, ?>) stored.getAdditionalProperties().get("spec")).get("ttl"));
  }

  @Test
  void aSnapshotWithATimeoutThatWouldOverflowIsRefusedWithItsMaximum() {
    KubernetesClientException refused =
        assertRefused(
            """
        apiVersion: vfio.dev/v1alpha1
        kind: VfioSnapshot
        metadata: {name: endless, namespace: default}
        spec: {podName: gpu-workload, timeout: 10000000000000h}
        """,
            "must be at most 24h");
    assertTrue(refused.getMessage().contains("spec.timeout"), refused.getMessage());
    assertFalse(refused.getMessage().contains("evaluating rule"), refused.getMessage());
  }

  @Test
  void aSnapshotWithATwentyDigitTtlIsRefusedWithItsMaximum() {
    KubernetesClientException refused =
        assertRefused(
            """
        apiVersion: vfio.dev/v1alpha1
        kind: VfioSnapshot
        metadata: {name: forever, namespace: default}
        spec: {podName: gpu-workload, ttl: 12345678901234567890s}
        """,
            "must be at most 87600h (10 years)");
    assertTrue(refused.getMessage().contains("spec.ttl"), refused.getMessage());
    // The bound answers on its own: duration() never ran into its overflow error.
    assertFalse(refused.getMessage().contains("evaluating rule"), refused.getMessage());
  }

  @Test
  void aSnapshotOfAPodNameThatIsNoSubdomainIsRefusedByTheApiServer() {
    assertRefused(
        """
        apiVersion: vfio.dev/v1alpha1
        kind: VfioSnapshot
        metadata: {name: bad-pod-name, namespace: default}
        spec: {podName: other/x}
        """,
        SUBDOMAIN);
  }

  @Test
  void aSnapshotWithAValueNoEnumHasIsRefusedByTheApiServer() {
    assertRefused(
        """
        apiVersion: vfio.dev/v1alpha1
        kind: VfioSnapshot
        metadata: {name: gzip, namespace: default}
        spec: {podName: gpu-workload, compression: Gzip}
        """,
        "Unsupported value: \"Gzip\"");
  }

  @Test
  void theSpecOfAStoredSnapshotCannotChange() {
    client
        .resource(
            object(
                """
        apiVersion: vfio.dev/v1alpha1
        kind: VfioSnapshot
        metadata: {name: immutable, namespace: default}
        spec: {podName: gpu-workload}
        """))
        .create();
    KubernetesClientException refused =
        assertThrows(
            KubernetesClientException.class,
            () ->
                client
                    .genericKubernetesResources("vfio.dev/v1alpha1", "VfioSnapshot")
                    .inNamespace("default")
                    .withName("immutable")
                    .edit(
                        s -> {
                          ((java.util.Map<String, Object>) s.getAdditionalProperties().get("spec"))
                              .put("podName", "other");
                          return s;
                        }));
    assertEquals(422, refused.getCode());
    assertTrue(
        refused
            .getMessage()
            .contains("spec is immutable: delete the resource and create a new one"),
        refused.getMessage());
  }

  @Test
  void aMigrationNamingBothAPodAndASnapshotIsRefusedByTheApiServer() {
    assertRefused(
        """
        apiVersion: vfio.dev/v1alpha1
        kind: VfioMigration
        metadata: {name: both, namespace: default}
        spec:
          source: {podName: a, snapshotName: b}
          targetPodName: c
        """,
        "set exactly one of source.podName and source.snapshotName");
  }

  @Test
  void aMigrationWithoutTargetIsRefusedByTheApiServer() {
    assertRefused(
        """
        apiVersion: vfio.dev/v1alpha1
        kind: VfioMigration
        metadata: {name: no-target, namespace: default}
        spec:
          source: {podName: a}
        """,
        "targetPodName is required");
  }

  @Test
  void aMigrationWithoutSpecIsRefusedByTheApiServer() {
    assertRefused(
        """
        apiVersion: vfio.dev/v1alpha1
        kind: VfioMigration
        metadata: {name: no-spec, namespace: default}
        """,
        "spec: Required value");
  }

  @Test
  void aMigrationSendingOneSourceToTwoTargetsIsRefusedByTheApiServer() {
    assertRefused(
        """
        apiVersion: vfio.dev/v1alpha1
        kind: VfioMigration
        metadata: {name: one-to-two, namespace: default}
        spec:
          source: {podName: a}
          targetPodName: c
          deviceMap:
          - {source: "0000:3b:00.0", target: "0000:5e:00.0"}
          - {source: "0000:3b:00.0", target: "0000:5e:00.1"}
        """,
        "deviceMap names a source device twice: each source device goes to exactly one target");
  }

  @Test
  void aMigrationSendingTwoSourcesToOneTargetIsRefusedByTheApiServer() {
    assertRefused(
        """
        apiVersion: vfio.dev/v1alpha1
        kind: VfioMigration
        metadata: {name: two-to-one, namespace: default}
        spec:
          source: {podName: a}
          targetPodName: c
          deviceMap:
          - {source: "0000:3b:00.0", target: "0000:5e:00.0"}
          - {source: "0000:3b:00.1", target: "0000:5e:00.0"}
        """,
        "deviceMap names a target device twice: each target device receives exactly one source");
  }

  @Test
  void aMigrationPairingADeviceWithNothingIsRefusedByTheApiServer() {
    KubernetesClientException refused =
        assertRefused(
            """
        apiVersion: vfio.dev/v1alpha1
        kind: VfioMigration
        metadata: {name: half-pair, namespace: default}
        spec:
          source: {podName: a}
          targetPodName: c
          deviceMap:
          - {source: "0000:3b:00.0"}
          - {source: "0000:3b:00.1"}
        """,
            "spec.deviceMap[0].target: Required value");
    // The uniqueness rules skip what is missing instead of failing on it.
    assertFalse(refused.getMessage().contains("evaluating rule"), refused.getMessage());
  }

  @Test
  void aNodeTaskListingADeviceTwiceIsRefusedByTheApiServer() {
    assertRefused(
        """
        apiVersion: vfio.dev/v1alpha1
        kind: VfioNodeTask
        metadata: {name: twice, namespace: default}
        spec: {operation: Save, nodeName: node-a, podName: gpu-workload, podUid: u1, storageClaim: c,
               blobDirectory: default/s, devices: ["0000:3b:00.0", "0000:3b:00.0"]}
        """,
        "spec.devices[1]: Duplicate value: \"0000:3b:00.0\"");
  }

  @Test
  void aNodeTaskMissingWhatItsOperationNeedsIsRefusedByTheApiServer() {
    assertRefused(
        """
        apiVersion: vfio.dev/v1alpha1
        kind: VfioNodeTask
        metadata: {name: half-send, namespace: default}
        spec: {operation: Send, nodeName: node-a, podName: gpu-workload, devices: ["0000:3b:00.0"],
               deviceMap: [{source: "0000:3b:00.0", target: "0000:5e:00.0"}], token: t,
               blobDirectory: ../../etc}
        """,
        "Send names the receiver's endpoint and token");
  }

  @Test
  void aNodeTaskWithoutSpecIsRefusedByTheApiServer() {
    assertRefused(
        """
        apiVersion: vfio.dev/v1alpha1
        kind: VfioNodeTask
        metadata: {name: no-spec, namespace: default}
        """,
        "spec: Required value");
  }

  @Test
  void aNodeTaskWithoutNodeNameIsRefusedByTheApiServer() {
    assertRefused(
        """
        apiVersion: vfio.dev/v1alpha1
        kind: VfioNodeTask
        metadata: {name: no-node, namespace: default}
        spec: {operation: Save, podName: gpu-workload}
        """,
        "nodeName is required");
  }

  @Test
  void theNodeOfAStoredNodeTaskCannotChangeButItCanBeCancelled() {
    operator
        .resource(
            object(
                """
        apiVersion: vfio.dev/v1alpha1
        kind: VfioNodeTask
        metadata: {name: stays-on-node-a, namespace: default}
        spec: {operation: Save, nodeName: node-a, podName: gpu-workload, podUid: u1,
               devices: ["0000:3b:00.0"], storageClaim: c, blobDirectory: default/s}
        """))
        .create();
    var tasks =
        operator
            .genericKubernetesResources("vfio.dev/v1alpha1", "VfioNodeTask")
            .inNamespace("default");
    KubernetesClientException refused =
        assertThrows(
            KubernetesClientException.class,
            () ->
                tasks
                    .withName("stays-on-node-a")
                    .edit(
                        t -> {
                          ((java.util.Map<String, Object>) t.getAdditionalProperties().get("spec"))
                              .put("nodeName", "node-b");
                          return t;
                        }));
    assertEquals(422, refused.getCode());
    assertTrue(
        refused
            .getMessage()
            .contains("nodeName is immutable: a task runs on the node it was created for"),
        refused.getMessage());

    GenericKubernetesResource cancelled =
        tasks
            .withName("stays-on-node-a")
            .edit(
                t -> {
                  ((java.util.Map<String, Object>) t.getAdditionalProperties().get("spec"))
                      .put("cancelRequested", true);
                  return t;
                });
    assertEquals(
        true,
        ((java.util.Map<?, ?>) cancelled.getAdditionalProperties().get("spec"))
            .get("cancelRequested"));
  }

  @Test
  void nodeTasksAreSelectedByTheirNodeNameWhateverTheirLabelSays() {
    operator
        .resource(
            object(
                """
        apiVersion: vfio.dev/v1alpha1
        kind: VfioNodeTask
        metadata: {name: on-node-c, namespace: default, labels: {vfio.dev/node: node-d}}
        spec: {operation: DeleteBlobs, nodeName: node-c, storageClaim: c, blobDirectory: default/c}
        """))
        .create();
    operator
        .resource(
            object(
                """
        apiVersion: vfio.dev/v1alpha1
        kind: VfioNodeTask
        metadata: {name: on-node-d, namespace: default, labels: {vfio.dev/node: node-c}}
        spec: {operation: DeleteBlobs, nodeName: node-d, storageClaim: c, blobDirectory: default/d}
        """))
        .create();

    List<String> selected =
        client
            .resources(VfioNodeTask.class)
            .inAnyNamespace()
            .withField(VfioNodeTask.NODE_FIELD, "node-c")
            .list()
            .getItems()
            .stream()
            .map(t -> t.getMetadata().getName())
            .toList();

    assertEquals(List.of("on-node-c"), selected);
  }

  private static KubernetesClientException assertRefused(String yaml, String message) {
    KubernetesClientException refused =
        assertThrows(KubernetesClientException.class, () -> client.resource(object(yaml)).create());
    assertEquals(422, refused.getCode(), refused::getMessage);
    assertTrue(refused.getMessage().contains(message), refused.getMessage());
    return refused;
  }

  private static GenericKubernetesResource object(String yaml) {
    return Serialization.unmarshal(yaml, GenericKubernetesResource.class);
  }
}
