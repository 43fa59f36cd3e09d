package dev.vfio.api.v1alpha1;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Objects stored under a newer schema than this one: read, never refused, and written back whole.
 */
class SchemaObjectTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * Unknown to this version: compression Gzip, onError Retry, phase Verifying, and every field
   * named so.
   */
  private static final String FROM_A_NEWER_SCHEMA =
      """
      {"apiVersion": "vfio.dev/v1alpha1", "kind": "VfioSnapshot",
       "metadata": {"name": "snap", "namespace": "default"},
       "spec": {"podName": "gpu-workload", "compression": "Gzip", "verify": true,
                "precopy": {"maxRounds": 3, "adaptive": {"target": "10ms"}},
                "hooks": {"pre": [{"container": "app", "command": ["sync"], "onError": "Retry"}]}},
       "status": {"phase": "Verifying", "stage": "Precopy", "shards": 4}}
      """;

  @Test
  void aSpecFromANewerSchemaIsReadAndWhatItDoesNotKnowIsNamedByPath() {
    VfioSnapshotSpec spec =
        Serialization.unmarshal(FROM_A_NEWER_SCHEMA, VfioSnapshot.class).getSpec();

    assertEquals("gpu-workload", spec.getPodName());
    assertNull(spec.getCompression());
    assertEquals(3, spec.getPrecopy().getMaxRounds());
    assertEquals(
        List.of(
            "spec.compression: \"Gzip\" is not a value this operator knows (None, Zstd)",
            "spec.hooks.pre[0].onError: \"Retry\" is not a value this operator knows (Fail, Continue)",
            "spec.precopy.adaptive is not a field this operator knows",
            "spec.verify is not a field this operator knows"),
        spec.unrecognized("spec").stream().map(u -> u.describe("this operator")).toList());
  }

  @Test
  void aStatusFromANewerVersionIsReadAsFarAsItIsUnderstood() {
    VfioSnapshotStatus status =
        Serialization.unmarshal(FROM_A_NEWER_SCHEMA, VfioSnapshot.class).getStatus();

    assertNull(status.getPhase());
    assertEquals(Stage.Precopy, status.getStage());
    assertEquals(
        List.of("status.phase", "status.shards"),
        status.unrecognized("status").stream().map(Unrecognized::path).toList());
  }

  @Test
  void whatIsNotUnderstoodIsWrittenBackUnchanged() throws Exception {
    VfioSnapshot snapshot = Serialization.unmarshal(FROM_A_NEWER_SCHEMA, VfioSnapshot.class);

    assertEquals(JSON.readTree(FROM_A_NEWER_SCHEMA), JSON.readTree(Serialization.asJson(snapshot)));
    // The operator framework reconciles such a copy of every resource, never the cached one.
    VfioSnapshot copy = Serialization.clone(snapshot);
    assertEquals(snapshot.getSpec().unrecognized("spec"), copy.getSpec().unrecognized("spec"));
  }

  @Test
  void anUnknownValueOutsideASchemaObjectIsRefusedAsJacksonWould() throws Exception {
    assertEquals(Compression.Zstd, JSON.readValue("\"Zstd\"", Compression.class));
    assertThrows(InvalidFormatException.class, () -> JSON.readValue("\"Gzip\"", Compression.class));
  }

  /**
   * Guards the model as it grows: one object or enum that refuses what it does not know stops the
   * informer again.
   */
  @ParameterizedTest
  @ValueSource(
      classes = {VfioSnapshot.class, VfioMigration.class, VfioNode.class, VfioNodeTask.class})
  void everyObjectAndEnumOfAKindKeepsWhatItDoesNotKnow(Class<?> kind) {
    List<String> refusing = new ArrayList<>();
    for (Type part : ((ParameterizedType) kind.getGenericSuperclass()).getActualTypeArguments()) {
      collectRefusing((Class<?>) part, new HashSet<>(), refusing);
    }
    assertEquals(
        List.of(),
        refusing,
        "extend SchemaObject, or annotate the enum "
            + "@JsonDeserialize(using = SchemaEnumDeserializer.class)");
  }

  private static void collectRefusing(Class<?> type, Set<Class<?>> seen, List<String> refusing) {
    if (!type.getPackageName().equals(SchemaObject.class.getPackageName()) || !seen.add(type)) {
      return;
    }
    if (type.isEnum()) {
      JsonDeserialize annotation = type.getAnnotation(JsonDeserialize.class);
      if (annotation == null || annotation.using() != SchemaEnumDeserializer.class) {
        refusing.add(type.getSimpleName());
      }
      return;
    }
    if (!SchemaObject.class.isAssignableFrom(type)) {
      refusing.add(type.getSimpleName());
    }
    for (Field field : type.getDeclaredFields()) {
      if (Modifier.isStatic(field.getModifiers())) {
        continue;
      }
      Type fieldType = field.getGenericType();
      Type element =
          fieldType instanceof ParameterizedType list
              ? list.getActualTypeArguments()[0]
              : fieldType;
      if (element instanceof Class<?> elementClass) {
        collectRefusing(elementClass, seen, refusing);
      }
    }
  }
}
