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
    CrdValidationRules.forEachSchema(CrdValidationRules.forManifest(plural).openApiSchema(),
        "openAPIV3Schema", (path, schema) -> {
          Map<String, Object> properties = map(schema.get("properties"));
          if (properties != null) {
            properties.forEach((name, property) -> {
              Object description = map(property).get("description");
              if (!(description instanceof String text) || text.isBlank()) {
                undocumented.add(path + ".properties." + name);
              }
            });
          }
        });
    assertEquals(List.of(), undocumented,
        "add @JsonPropertyDescription to these fields and regenerate the manifests");
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> map(Object value) {
    return (Map<String, Object>) value;
  }
}
