package dev.vfio.api.v1alpha1;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * docs/api-reference.md is what users read instead of the manifests; it must describe exactly the
 * checked-in CRDs. Run with -Dvfio.docs.update=true to rewrite it.
 */
class ApiReferenceTest {

  @Test
  void checkedInReferenceMatchesTheManifests() throws Exception {
    String expected = ApiReference.renderCheckedInManifests();
    Path checkedIn = ApiReference.checkedIn();
    if (Boolean.getBoolean("vfio.docs.update")) {
      Files.createDirectories(checkedIn.getParent());
      Files.writeString(checkedIn, expected);
    }
    assertEquals(
        expected,
        Files.exists(checkedIn) ? Files.readString(checkedIn) : "",
        checkedIn + " differs from the manifests: run " + ApiReference.REGENERATE);
  }

  @Test
  void kindsAppearInTheOrderUsersMeetThem() {
    String page = ApiReference.renderCheckedInManifests();
    List<Integer> positions =
        List.of("VfioSnapshot", "VfioMigration", "VfioNode", "VfioNodeTask").stream()
            .map(kind -> page.indexOf("\n## " + kind + "\n"))
            .toList();
    assertTrue(positions.get(0) > 0, "no VfioSnapshot section");
    for (int i = 1; i < positions.size(); i++) {
      assertTrue(positions.get(i) > positions.get(i - 1), "sections out of order: " + positions);
    }
  }

  @Test
  void nodeTasksAreMarkedInternalAndUserFacingKindsAreNot() {
    String page = ApiReference.renderCheckedInManifests();
    String nodeTask = page.substring(page.indexOf("\n## VfioNodeTask\n"));
    assertTrue(nodeTask.contains("**Internal.**"), nodeTask);
    assertEquals(1, page.split("\\*\\*Internal\\.\\*\\*", -1).length - 1);
  }

  @Test
  void aRuleOfAnObjectIsListedOnThatObjectsRow() {
    String page = ApiReference.renderCheckedInManifests();
    String sourceRow =
        page.lines().filter(line -> line.startsWith("| `spec.source` |")).findFirst().orElseThrow();
    assertTrue(
        sourceRow.contains("set exactly one of source.podName and source.snapshotName"), sourceRow);
  }

  @Test
  void pipesInRulesAndPatternsAreEscapedSoTheRowKeepsItsColumns() {
    String page =
        ApiReference.render(
            List.of(
                crd(
                    """
        spec:
          type: object
          properties:
            mode:
              type: string
              description: "a|b"
              pattern: "^(a|b)$"
              x-kubernetes-validations:
              - rule: "self == 'a' || self == 'b'"
                message: "must be a or b"
        """)));
    String row =
        page.lines().filter(line -> line.startsWith("| `spec.mode` |")).findFirst().orElseThrow();
    String header =
        page.lines().filter(line -> line.startsWith("| Field |")).findFirst().orElseThrow();
    assertEquals(cellCount(header), cellCount(row), row);
    assertTrue(row.contains("`self == 'a' \\|\\| self == 'b'` — \"must be a or b\""), row);
    assertTrue(row.contains("pattern `^(a\\|b)$`"), row);
  }

  @Test
  void angleBracketsInADescriptionShowLiterallyInsteadOfVanishingAsHtml() {
    assertEquals(
        "blobs in \\<namespace>/\\<snapshot>, driver mlx5_vfio_pci, \\_hidden\\_",
        ApiReference.prose("blobs in <namespace>/<snapshot>, driver mlx5_vfio_pci, _hidden_"));
  }

  @Test
  void aFieldItsParentTestsWithHasIsRequiredButOneOfTwoAlternativesIsNot() {
    Map<String, Object> spec =
        CrdValidationRules.yaml(
            """
        type: object
        required: [listed]
        properties:
          listed: {type: string}
          podName: {type: string}
          podName2: {type: string}
          snapshotName: {type: string}
          optional: {type: string}
        x-kubernetes-validations:
        - rule: "has(self.podName) && self.podName.size() > 0"
        - rule: "has(self.podName2) != has(self.snapshotName)"
        - rule: "!has(self.optional) || self.optional != ''"
        """);
    assertEquals(Set.of("listed", "podName"), ApiReference.requiredBy(spec));
  }

  @Test
  void fieldSelectorsAreTheNameTheNamespaceOfANamespacedKindAndItsSelectableFields() {
    assertEquals(
        "`metadata.name`, `metadata.namespace`, `spec.nodeName`",
        ApiReference.fieldSelectors(
            "Namespaced",
            CrdValidationRules.yaml(
                "{name: v1alpha1, selectableFields: [{jsonPath: \".spec.nodeName\"}]}")));
    assertEquals(
        "`metadata.name`",
        ApiReference.fieldSelectors("Cluster", CrdValidationRules.yaml("{name: v1alpha1}")));
  }

  @Test
  void typeNamesEnumValuesAndListItemTypes() {
    assertEquals(
        "array of string enum: `P2P`, `STOP_COPY`",
        ApiReference.type(
            CrdValidationRules.yaml(
                "{type: array, items: {type: string, enum: [P2P, STOP_COPY]}}")));
    assertEquals(
        "map of integer (int64)",
        ApiReference.type(
            CrdValidationRules.yaml(
                "{type: object, additionalProperties: {type: integer, format: int64}}")));
  }

  @Test
  void boundsOfListItemsAreListedOnTheListsRow() {
    assertEquals(
        List.of(
            "maxItems 64",
            "each item: maxLength 36",
            "each item: CEL `self != ''` — \"must not be empty\""),
        ApiReference.validation(
            CrdValidationRules.yaml(
                """
            {type: array, maxItems: 64, items: {type: string, maxLength: 36,
              x-kubernetes-validations: [{rule: "self != ''", message: must not be empty}]}}
            """)));
  }

  @Test
  void aDefaultColumnAppearsOnlyInTablesWhereSomeFieldHasADefault() {
    String page =
        ApiReference.render(
            List.of(
                crd(
                    """
        spec:
          type: object
          properties:
            rounds: {type: integer, default: 5}
        status:
          type: object
          properties:
            phase: {type: string}
        """)));
    String spec = page.substring(page.indexOf("### Spec"), page.indexOf("### Status"));
    String status = page.substring(page.indexOf("### Status"));
    assertTrue(spec.contains("| Field | Type | Required | Default | Description | Validation |"));
    assertTrue(spec.contains("| `spec.rounds` | integer | no | `5` |"), spec);
    assertFalse(status.contains("Default"), status);
  }

  private static long cellCount(String row) {
    return row.replace("\\|", "").chars().filter(c -> c == '|').count();
  }

  /** A one-version CRD of kind Example whose openAPIV3Schema has {@code properties}. */
  private static Map<String, Object> crd(String properties) {
    return CrdValidationRules.yaml(
        """
        metadata: {name: examples.vfio.dev}
        spec:
          group: vfio.dev
          names: {kind: Example, plural: examples, singular: example}
          scope: Namespaced
          versions:
          - name: v1alpha1
            schema:
              openAPIV3Schema:
                type: object
                properties:
        """
            + properties.indent(10));
  }
}
