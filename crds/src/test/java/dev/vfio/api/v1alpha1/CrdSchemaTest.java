package dev.vfio.api.v1alpha1;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.FieldSource;

/** Properties every checked-in manifest must have, whatever the kind. */
class CrdSchemaTest {
  static final List<String> KINDS = CrdManifests.KINDS;

  /** A typo in a rule would otherwise only show when a cluster refuses the CRD. */
  @ParameterizedTest
  @FieldSource("KINDS")
  void everyValidationRuleCompilesWithCel(String plural) {
    assertEquals(List.of(), CrdValidationRules.forManifest(plural).compileErrors());
  }

  /** Descriptions are what kubectl explain shows; the project documents every field. */
  @ParameterizedTest
  @FieldSource("KINDS")
  void everyPropertyHasADescription(String plural) {
    List<String> undocumented = new ArrayList<>();
    CrdValidationRules.forEachSchema(
        CrdValidationRules.forManifest(plural).openApiSchema(),
        "openAPIV3Schema",
        (path, schema) -> {
          Map<String, Object> properties = map(schema.get("properties"));
          if (properties != null) {
            properties.forEach(
                (name, property) -> {
                  Object description = map(property).get("description");
                  if (!(description instanceof String text) || text.isBlank()) {
                    undocumented.add(path + ".properties." + name);
                  }
                });
          }
        });
    assertEquals(
        List.of(),
        undocumented,
        "add @JsonPropertyDescription to these fields and regenerate the manifests");
  }

  /**
   * The API server estimates the worst-case cost of every rule when the CRD is created and refuses
   * the CRD when a rule is too expensive. A regex over a string without maxLength is costed as if
   * the string filled a whole request (3 MiB), and again for every item of a list, which is far
   * past the budget; a rule that iterates a list (all, exists_one…) inside another is costed by the
   * square of its largest size: so every string and list such a rule can reach is bounded.
   */
  @ParameterizedTest
  @FieldSource("KINDS")
  void everyValueARegexOrIteratingRuleReadsIsBounded(String plural) {
    List<String> unbounded = new ArrayList<>();
    for (CrdValidationRules.DeclaredRule rule : CrdValidationRules.forManifest(plural).rules()) {
      if (!CrdValidationRules.callsFunction(rule.rule(), "matches")
          && !CrdValidationRules.iterates(rule.rule())) {
        continue;
      }
      String at = rule.schemaPath().replaceFirst("\\.x-kubernetes-validations\\[\\d+]$", "");
      CrdValidationRules.forEachSchema(
          rule.schema(),
          at,
          (path, schema) -> {
            if ("string".equals(schema.get("type"))
                && !schema.containsKey("maxLength")
                && !schema.containsKey("enum")) {
              unbounded.add(path + " has no maxLength");
            }
            if ("array".equals(schema.get("type")) && !schema.containsKey("maxItems")) {
              unbounded.add(path + " has no maxItems");
            }
          });
    }
    assertEquals(
        List.of(),
        unbounded,
        "bound these with @Size (on the list's element type for items: List<@Size(max = n) String>)");
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> map(Object value) {
    return (Map<String, Object>) value;
  }
}
