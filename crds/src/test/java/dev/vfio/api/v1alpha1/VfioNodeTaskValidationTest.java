package dev.vfio.api.v1alpha1;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * What the API server accepts and refuses for a VfioNodeTask, and how the agents select theirs,
 * from the checked-in CRD. Only the operator writes these, but an agent takes work from whatever
 * the server lets through, so the rules that keep a task on its node are pinned here.
 */
class VfioNodeTaskValidationTest {
  private static final CrdValidationRules RULES = CrdValidationRules.forKind("VfioNodeTask");

  // Spelled out rather than taken from the model: they are what a user editing a task reads.
  private static final String NODE_NAME_REQUIRED = "nodeName is required";
  private static final String NODE_NAME_IMMUTABLE =
      "nodeName is immutable: a task runs on the node it was created for";

  private static final String SWITCHOVER_SET_ONCE =
      "switchover cannot change or be removed once set";

  private static final String SAVE_ON_NODE_A =
      """
      operation: Save
      nodeName: node-a
      podName: gpu-workload
      podUid: 6b1f0c2e-5d7a-4c38-9a51-0e2f3d4c5b6a
      devices: ["0000:3b:00.0"]
      storageClaim: vfio-snapshots
      blobDirectory: default/gpu-workload-snapshot
      """;
  private static final String SAVE_WITHOUT_NODE = SAVE_ON_NODE_A.replace("nodeName: node-a\n", "");

  private static final String RECEIVE_ON_NODE_B =
      """
      operation: Receive
      nodeName: node-b
      podName: gpu-workload-target
      podUid: 0d3c2b1a-5d7a-4c38-9a51-0e2f3d4c5b6a
      devices: ["0000:5e:00.0"]
      deviceMap: [{source: "0000:3b:00.0", target: "0000:5e:00.0"}]
      token: a-shared-secret
      byteBudget: 1048576
      peerNode: node-a
      """;

  private static final String SEND_ON_NODE_A =
      """
      operation: Send
      nodeName: node-a
      podName: gpu-workload
      podUid: 6b1f0c2e-5d7a-4c38-9a51-0e2f3d4c5b6a
      devices: ["0000:3b:00.0"]
      deviceMap: [{source: "0000:3b:00.0", target: "0000:5e:00.0"}]
      token: a-shared-secret
      endpoint: {host: 10.0.0.2, port: 40000}
      peerNode: node-b
      """;

  static Map<String, Object> task(String spec) {
    return CrdValidationRules.yaml(
        """
        apiVersion: vfio.dev/v1alpha1
        kind: VfioNodeTask
        metadata:
          name: gpu-workload-snapshot-save
          namespace: default
        spec:
        """
            + spec.indent(2));
  }

  @Test
  void taskForANodePassesEveryRule() {
    assertEquals(List.of(), RULES.createMessages(task(SAVE_ON_NODE_A)));
  }

  @Test
  void taskWithoutNodeNameFailsWithNodeNameIsRequired() {
    assertEquals(List.of(NODE_NAME_REQUIRED), RULES.createMessages(task(SAVE_WITHOUT_NODE)));
  }

  @Test
  void taskWithAnEmptyNodeNameFailsWithNodeNameIsRequired() {
    assertEquals(
        List.of(NODE_NAME_REQUIRED),
        RULES.createMessages(task(SAVE_ON_NODE_A.replace("node-a", "\"\""))));
  }

  @Test
  void theSchemaRequiresTheSpecWhichHoldsTheNodeName() {
    // Not a CEL rule, which this harness would evaluate: the API server answers a task without
    // spec with "spec: Required value" (ApiServerValidationTest).
    assertEquals(List.of("spec"), RULES.openApiSchema().get("required"));
  }

  @Test
  void taskListingADeviceTwiceFailsWithDuplicateValue() {
    assertEquals(
        List.of("Duplicate value: \"0000:3b:00.0\""),
        RULES.createMessages(
            task(
                SAVE_ON_NODE_A.replace(
                    "devices: [\"0000:3b:00.0\"]",
                    "devices: [\"0000:3b:00.0\", \"0000:3b:00.0\"]"))));
  }

  @Test
  void taskWhoseDeviceMapRepeatsASourceOrATargetFails() {
    assertEquals(
        List.of(
            "deviceMap names a source device twice: each source device goes to exactly one target",
            "deviceMap names a target device twice: each target device receives exactly one source"),
        RULES.createMessages(
            task(
                """
            operation: Load
            nodeName: node-a
            podName: gpu-workload-target
            podUid: 0d3c2b1a-5d7a-4c38-9a51-0e2f3d4c5b6a
            devices: ["0000:5e:00.0", "0000:5e:00.1", "0000:5e:00.2"]
            storageClaim: vfio-snapshots
            blobDirectory: default/gpu-workload-snapshot
            deviceMap:
            - {source: "0000:3b:00.0", target: "0000:5e:00.0"}
            - {source: "0000:3b:00.0", target: "0000:5e:00.1"}
            - {source: "0000:3b:00.1", target: "0000:5e:00.1"}
            """)));
  }

  @Test
  void theTasksTheOperatorWritesPassEveryRule() {
    assertEquals(List.of(), RULES.createMessages(task(RECEIVE_ON_NODE_B)));
    assertEquals(List.of(), RULES.createMessages(task(SEND_ON_NODE_A)));
    assertEquals(
        List.of(),
        RULES.createMessages(
            task(
                """
                operation: DeleteBlobs
                nodeName: node-a
                storageClaim: vfio-snapshots
                blobDirectory: default/vmig-6b1f0c2e-5d7a-4c38-9a51-0e2f3d4c5b6a
                """)));
  }

  @Test
  void aTaskWithoutOperationFails() {
    assertEquals(
        List.of("operation is required"),
        RULES.createMessages(task(SAVE_ON_NODE_A.replace("operation: Save\n", ""))));
  }

  @Test
  void aSaveWithoutDevicesOrPodUidFails() {
    assertEquals(
        List.of("Save, Load, Send, Receive and Resume name a podName and at least one device"),
        RULES.createMessages(task(SAVE_ON_NODE_A.replace("[\"0000:3b:00.0\"]", "[]"))));
    assertEquals(
        List.of("Save, Load, Receive and Resume name the pod's podUid"),
        RULES.createMessages(task(SAVE_ON_NODE_A.replaceAll("podUid: .*\n", ""))));
  }

  @Test
  void aBlobDirectoryOutsideTwoNamesFails() {
    for (String directory : List.of("../etc", "/var/lib", "default/a/b", "default/..", "default")) {
      assertEquals(
          List.of("blobDirectory is <namespace>/<name>: two lowercase names joined by one '/'"),
          RULES.createMessages(
              task(
                  SAVE_ON_NODE_A.replace(
                      "default/gpu-workload-snapshot", "\"" + directory + "\""))),
          directory);
    }
  }

  @Test
  void aSaveWithoutStorageAndAReceiveWithStorageFail() {
    assertEquals(
        List.of("Save, Load and DeleteBlobs name a storageClaim and a blobDirectory"),
        RULES.createMessages(task(SAVE_ON_NODE_A.replaceAll("storageClaim: .*\n", ""))));
    assertEquals(
        List.of("only Save, Load and DeleteBlobs name a storageClaim or blobDirectory"),
        RULES.createMessages(task(RECEIVE_ON_NODE_B + "blobDirectory: default/elsewhere\n")));
  }

  @Test
  void aReceiveWithoutDeviceMapFails() {
    assertEquals(
        List.of("Load, Send and Receive pair their devices in deviceMap"),
        RULES.createMessages(task(RECEIVE_ON_NODE_B.replaceAll("deviceMap: .*\n", ""))));
  }

  @Test
  void peerFieldsBelongToSendAndReceiveOnly() {
    assertEquals(
        List.of("Send names the receiver's endpoint and token"),
        RULES.createMessages(task(SEND_ON_NODE_A.replaceAll("endpoint: .*\n", ""))));
    assertEquals(
        List.of("Receive names the token its sender presents"),
        RULES.createMessages(task(RECEIVE_ON_NODE_B.replaceAll("token: .*\n", ""))));
    String peerOnly =
        "token and peerNode only for Send and Receive, endpoint only for Send, byteBudget only for"
            + " Receive";
    assertEquals(
        List.of(peerOnly),
        RULES.createMessages(task(SAVE_ON_NODE_A + "endpoint: {host: 10.0.0.9, port: 1}\n")));
    assertEquals(
        List.of(peerOnly),
        RULES.createMessages(task(RECEIVE_ON_NODE_B + "endpoint: {host: 10.0.0.9, port: 1}\n")));
    assertEquals(List.of(peerOnly), RULES.createMessages(task(SEND_ON_NODE_A + "byteBudget: 1\n")));
    assertEquals(List.of(peerOnly), RULES.createMessages(task(SAVE_ON_NODE_A + "peerNode: b\n")));
  }

  @Test
  void sendAndReceiveNameThePeerNodeTheirPeerMustProveToBe() {
    String required = "Send and Receive name the peerNode whose agent is on the other side";
    assertEquals(
        List.of(required),
        RULES.createMessages(task(SEND_ON_NODE_A.replaceAll("peerNode: .*\n", ""))));
    assertEquals(
        List.of(required),
        RULES.createMessages(task(RECEIVE_ON_NODE_B.replaceAll("peerNode: .*\n", ""))));
    assertEquals(List.of(), RULES.createMessages(task(SEND_ON_NODE_A)));
    assertEquals(List.of(), RULES.createMessages(task(RECEIVE_ON_NODE_B)));
  }

  @Test
  void movingATaskToAnotherNodeFailsAsImmutable() {
    assertEquals(
        List.of(NODE_NAME_IMMUTABLE),
        RULES.updateMessages(
            task(SAVE_ON_NODE_A), task(SAVE_ON_NODE_A.replace("node-a", "node-b"))));
  }

  @Test
  void removingTheNodeNameOfATaskFailsAsRequired() {
    assertEquals(
        List.of(NODE_NAME_REQUIRED),
        RULES.updateMessages(task(SAVE_ON_NODE_A), task(SAVE_WITHOUT_NODE)));
  }

  @Test
  void cancellingATaskPassesBecauseOnlyItsNodeNameIsImmutable() {
    assertEquals(
        List.of(),
        RULES.updateMessages(
            task(SAVE_ON_NODE_A), task(SAVE_ON_NODE_A + "cancelRequested: true\n")));
  }

  @Test
  void committingTheSwitchoverOfATaskPasses() {
    assertEquals(
        List.of(),
        RULES.updateMessages(task(SEND_ON_NODE_A), task(SEND_ON_NODE_A + "switchover: Commit\n")));
  }

  @Test
  void removingACommittedSwitchoverFails() {
    assertEquals(
        List.of(SWITCHOVER_SET_ONCE),
        RULES.updateMessages(
            task(SEND_ON_NODE_A + "switchover: Commit\n"),
            task(SEND_ON_NODE_A + "cancelRequested: true\n")));
  }

  @Test
  void aCommittedSwitchoverCanStillBeRepeated() {
    assertEquals(
        List.of(),
        RULES.updateMessages(
            task(SEND_ON_NODE_A + "switchover: Commit\n"),
            task(SEND_ON_NODE_A + "switchover: Commit\ncancelRequested: true\n")));
  }

  @Test
  void agentsCanSelectTasksByTheNodeNameField() throws Exception {
    Map<String, Object> crd =
        CrdValidationRules.yaml(Files.readString(CrdManifests.checkedIn("vfionodetasks")));
    @SuppressWarnings("unchecked")
    Map<String, Object> spec = (Map<String, Object>) crd.get("spec");
    @SuppressWarnings("unchecked")
    List<Map<String, Object>> versions = (List<Map<String, Object>>) spec.get("versions");
    assertEquals(1, versions.size());
    Object selectable = versions.get(0).get("selectableFields");
    assertTrue(
        selectable instanceof List<?> fields
            && fields.contains(Map.of("jsonPath", "." + VfioNodeTask.NODE_FIELD)),
        "the CRD declares " + VfioNodeTask.NODE_FIELD + " selectable: " + selectable);
  }
}
