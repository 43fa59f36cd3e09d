package dev.vfio.api.v1alpha1;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
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
}
