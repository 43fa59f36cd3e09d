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

  private static final String SEND_ON_NODE_A =
      """
      operation: Send
      nodeName: node-a
      podName: gpu-workload
      """;

  private static final String SAVE_ON_NODE_A =
      """
      operation: Save
      nodeName: node-a
      podName: gpu-workload
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
    assertEquals(
        List.of(NODE_NAME_REQUIRED),
        RULES.createMessages(task("operation: Save\npodName: gpu-workload")));
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
            task(SAVE_ON_NODE_A + "devices: [\"0000:3b:00.0\", \"0000:3b:00.0\"]\n")));
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
            deviceMap:
            - {source: "0000:3b:00.0", target: "0000:5e:00.0"}
            - {source: "0000:3b:00.0", target: "0000:5e:00.1"}
            - {source: "0000:3b:00.1", target: "0000:5e:00.1"}
            """)));
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
        RULES.updateMessages(task(SAVE_ON_NODE_A), task("operation: Save\npodName: gpu-workload")));
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
