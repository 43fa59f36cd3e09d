package dev.vfio.api.v1alpha1;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** What the API server accepts and refuses for a VfioMigration, from the checked-in CRD. */
class VfioMigrationValidationTest {
  private static final CrdValidationRules RULES = CrdValidationRules.forKind("VfioMigration");

  private static final String EXACTLY_ONE_SOURCE =
      "set exactly one of source.podName and source.snapshotName";
  private static final String SOURCE_REQUIRED = "source is required";
  private static final String TARGET_REQUIRED = "targetPodName is required";
  private static final String NOT_A_SUBDOMAIN =
      "must be a lowercase RFC 1123 subdomain: a-z, 0-9, '-' and '.', at most 253 characters";
  private static final String BAD_DEVICE =
      "devices are lowercase PCI addresses (0000:65:00.0) or mdev UUIDs";
  private static final String DUPLICATE_SOURCE =
      "deviceMap names a source device twice: each source device goes to exactly one target";
  private static final String DUPLICATE_TARGET =
      "deviceMap names a target device twice: each target device receives exactly one source";
  private static final String TIMEOUT_TOO_LONG = "must be at most 24h";
  private static final String IMMUTABLE =
      "spec is immutable: delete the resource and create a new one";

  private static final String LIVE_SPEC =
      """
      source:
        podName: gpu-workload
      targetPodName: gpu-workload-target
      """;

  static Map<String, Object> migration(String spec) {
    return CrdValidationRules.yaml(
        """
        apiVersion: vfio.dev/v1alpha1
        kind: VfioMigration
        metadata:
          name: gpu-workload-migration
          namespace: default
        spec:
        """
            + spec.indent(2));
  }

  @Test
  void migrationFromASourcePodOnlyPasses() {
    assertEquals(List.of(), RULES.createMessages(migration(LIVE_SPEC)));
  }

  @Test
  void migrationFromASnapshotOnlyPasses() {
    assertEquals(
        List.of(),
        RULES.createMessages(
            migration(
                """
        source:
          snapshotName: gpu-workload-snapshot
        targetPodName: gpu-workload-target
        """)));
  }

  @Test
  void migrationFromBothAPodAndASnapshotFailsWithExactlyOneSource() {
    assertEquals(
        List.of(EXACTLY_ONE_SOURCE),
        RULES.createMessages(
            migration(
                """
        source:
          podName: gpu-workload
          snapshotName: gpu-workload-snapshot
        targetPodName: gpu-workload-target
        """)));
  }

  @Test
  void migrationFromAnEmptySourceFailsWithExactlyOneSource() {
    assertEquals(
        List.of(EXACTLY_ONE_SOURCE),
        RULES.createMessages(
            migration(
                """
        source: {}
        targetPodName: gpu-workload-target
        """)));
  }

  @Test
  void migrationWithoutSourceFailsWithSourceIsRequired() {
    assertEquals(
        List.of(SOURCE_REQUIRED),
        RULES.createMessages(migration("targetPodName: gpu-workload-target")));
  }

  @Test
  void migrationWithoutTargetPodNameFailsWithTargetPodNameIsRequired() {
    assertEquals(
        List.of(TARGET_REQUIRED),
        RULES.createMessages(
            migration(
                """
        source:
          podName: gpu-workload
        """)));
  }

  @Test
  void migrationToATargetPodNameThatIsNotASubdomainFails() {
    assertEquals(
        List.of(NOT_A_SUBDOMAIN),
        RULES.createMessages(migration(LIVE_SPEC.replace("gpu-workload-target", "Target_Pod"))));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "{source: \"0000:3b:00.0\", target: \"5e:00.0\"}",
        "{source: \"0000:3B:00.0\", target: \"0000:5e:00.0\"}",
        "{source: \"gpu0\", target: \"0000:5e:00.0\"}"
      })
  void migrationWithABadAddressInTheDeviceMapFails(String mapping) {
    assertEquals(
        List.of(BAD_DEVICE),
        RULES.createMessages(migration(LIVE_SPEC + "deviceMap: [" + mapping + "]")));
  }

  @Test
  void migrationWithAWellFormedDeviceMapPasses() {
    assertEquals(
        List.of(),
        RULES.createMessages(
            migration(
                LIVE_SPEC
                    + """
        deviceMap:
        - source: "0000:3b:00.0"
          target: "0000:5e:00.0"
        - source: "c2f5d1a8-3b4e-4f6a-9d2c-1e7b8a9f0c3d"
          target: "0000:5e:00.1"
        """)));
  }

  @Test
  void migrationMappingOneSourceToTwoTargetsFailsWithDuplicateSource() {
    assertEquals(
        List.of(DUPLICATE_SOURCE),
        RULES.createMessages(
            migration(
                LIVE_SPEC
                    + """
        deviceMap:
        - {source: "0000:3b:00.0", target: "0000:5e:00.0"}
        - {source: "0000:3b:00.0", target: "0000:5e:00.1"}
        """)));
  }

  @Test
  void migrationMappingTwoSourcesToOneTargetFailsWithDuplicateTarget() {
    assertEquals(
        List.of(DUPLICATE_TARGET),
        RULES.createMessages(
            migration(
                LIVE_SPEC
                    + """
        deviceMap:
        - {source: "0000:3b:00.0", target: "0000:5e:00.0"}
        - {source: "0000:3b:00.1", target: "0000:5e:00.0"}
        """)));
  }

  @Test
  void migrationRepeatingAWholePairFailsWithBothDuplicates() {
    assertEquals(
        List.of(DUPLICATE_SOURCE, DUPLICATE_TARGET),
        RULES.createMessages(
            migration(
                LIVE_SPEC
                    + """
        deviceMap:
        - {source: "0000:3b:00.0", target: "0000:5e:00.0"}
        - {source: "0000:3b:00.0", target: "0000:5e:00.0"}
        """)));
  }

  @Test
  void migrationSwappingTwoDevicesPasses() {
    assertEquals(
        List.of(),
        RULES.createMessages(
            migration(
                LIVE_SPEC
                    + """
        deviceMap:
        - {source: "0000:3b:00.0", target: "0000:3b:00.1"}
        - {source: "0000:3b:00.1", target: "0000:3b:00.0"}
        """)));
  }

  @Test
  void aMappingWithoutItsTargetIsLeftToTheSchemaWhichRequiresBoth() {
    // The schema's required list, not a CEL rule: the API server answers
    // "spec.deviceMap[0].target: Required value" (ApiServerValidationTest).
    assertEquals(
        List.of(),
        RULES.createMessages(
            migration(
                LIVE_SPEC
                    + """
        deviceMap:
        - {source: "0000:3b:00.0"}
        - {source: "0000:3b:00.1"}
        """)));
    @SuppressWarnings("unchecked")
    Map<String, Object> mapping =
        (Map<String, Object>)
            ((Map<String, Object>)
                    ((Map<String, Object>)
                            ((Map<String, Object>)
                                    ((Map<String, Object>) RULES.openApiSchema().get("properties"))
                                        .get("spec"))
                                .get("properties"))
                        .get("deviceMap"))
                .get("items");
    assertEquals(List.of("source", "target"), mapping.get("required"));
  }

  @Test
  void migrationWithATimeoutPastADayFailsWithTheMaximum() {
    assertEquals(
        List.of(TIMEOUT_TOO_LONG),
        RULES.createMessages(migration(LIVE_SPEC + "timeout: 10000000000000h")));
    assertEquals(List.of(), RULES.createMessages(migration(LIVE_SPEC + "timeout: 24h")));
  }

  @Test
  void migrationWithAHookTimeoutPastAnHourFailsWithItsMaximum() {
    assertEquals(
        List.of("must be at most 1h"),
        RULES.createMessages(
            migration(
                LIVE_SPEC
                    + """
        hooks:
          pre: [{container: app, command: [sync], timeout: 61m}]
        """)));
  }

  @Test
  void theSchemaRequiresTheSpec() {
    // Without it a migration would reach the operator with nothing to do.
    assertEquals(List.of("spec"), RULES.openApiSchema().get("required"));
  }

  @Test
  void updateThatChangesTheSpecFailsAsImmutable() {
    Map<String, Object> old = migration(LIVE_SPEC);
    Map<String, Object> changed = migration(LIVE_SPEC.replace("gpu-workload-target", "other"));
    assertEquals(List.of(IMMUTABLE), RULES.updateMessages(old, changed));
  }

  @Test
  void updateWithAnIdenticalSpecPasses() {
    assertEquals(List.of(), RULES.updateMessages(migration(LIVE_SPEC), migration(LIVE_SPEC)));
  }
}
