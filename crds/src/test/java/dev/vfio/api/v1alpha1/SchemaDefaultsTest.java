package dev.vfio.api.v1alpha1;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.fabric8.kubernetes.client.utils.Serialization;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A default lives in two forms: in the schema, for the API server to fill in, and in the model's
 * {@code ...OrDefault} readers, for objects it did not fill (stored under an older CRD, or built in
 * code). A spec the API server defaulted must mean what the same spec undefaulted means.
 */
class SchemaDefaultsTest {
  @Test
  void aSnapshotSpecMeansTheSameWithOrWithoutTheSchemaDefaults() {
    VfioSnapshotSpec defaulted =
        Serialization.unmarshal(
            Serialization.asJson(defaults("VfioSnapshot")), VfioSnapshotSpec.class);
    VfioSnapshotSpec bare = new VfioSnapshotSpec();

    assertEquals(bare.quiesceOrDefault(), defaulted.getQuiesce());
    assertEquals(bare.afterSnapshotOrDefault(), defaulted.getAfterSnapshot());
    assertEquals(bare.compressionOrDefault(), defaulted.getCompression());
    assertEquals(bare.digestOrDefault(), defaulted.getDigest());
    assertEquals(bare.deletionPolicyOrDefault(), defaulted.getDeletionPolicy());
    assertPrecopyDefaults(defaulted.getPrecopy());
  }

  @Test
  void aMigrationSpecMeansTheSameWithOrWithoutTheSchemaDefaults() {
    VfioMigrationSpec defaulted =
        Serialization.unmarshal(
            Serialization.asJson(defaults("VfioMigration")), VfioMigrationSpec.class);
    VfioMigrationSpec bare = new VfioMigrationSpec();

    assertEquals(bare.transportOrDefault(), defaulted.getTransport());
    assertEquals(bare.quiesceOrDefault(), defaulted.getQuiesce());
    assertPrecopyDefaults(defaulted.getPrecopy());
  }

  private static void assertPrecopyDefaults(PrecopySpec defaulted) {
    assertEquals(PrecopySpec.enabled(null), defaulted.getEnabled());
    assertEquals(PrecopySpec.maxRounds(null), defaulted.getMaxRounds());
    assertEquals(PrecopySpec.thresholdBytes(null), defaulted.getThresholdBytes());
  }

  /**
   * The spec the API server makes of {@code {precopy: {}}}: every default of the spec's schema, one
   * level of objects deep, which is as deep as the model declares any.
   */
  private static Map<String, Object> defaults(String kind) {
    Map<String, Object> spec =
        map(map(CrdValidationRules.forKind(kind).openApiSchema().get("properties")).get("spec"));
    Map<String, Object> filled = new LinkedHashMap<>();
    map(spec.get("properties"))
        .forEach(
            (name, property) -> {
              Map<String, Object> schema = map(property);
              if (schema.containsKey("default")) {
                filled.put(name, schema.get("default"));
              } else if (schema.containsKey("properties")) {
                Map<String, Object> nested = new LinkedHashMap<>();
                map(schema.get("properties"))
                    .forEach(
                        (field, fieldSchema) -> {
                          if (map(fieldSchema).containsKey("default")) {
                            nested.put(field, map(fieldSchema).get("default"));
                          }
                        });
                if (!nested.isEmpty()) {
                  filled.put(name, nested);
                }
              }
            });
    return filled;
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> map(Object value) {
    return (Map<String, Object>) value;
  }
}
