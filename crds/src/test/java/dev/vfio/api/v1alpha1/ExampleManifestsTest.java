package dev.vfio.api.v1alpha1;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The manifests under examples/ are documentation that users kubectl apply as they are: each must
 * be accepted by the API server, read completely by the Java model, and refer only to things the
 * examples themselves create.
 */
class ExampleManifestsTest {
  private static final Path EXAMPLES = Path.of(System.getProperty("vfio.examples"));
  private static final String API_VERSION = VfioSnapshot.GROUP + "/" + VfioSnapshot.VERSION;
  private static final Map<String, Class<? extends HasMetadata>> USER_KINDS =
      Map.of(
          "VfioSnapshot",
          VfioSnapshot.class,
          "VfioMigration",
          VfioMigration.class,
          "VfioSnapshotSchedule",
          VfioSnapshotSchedule.class);
  private static final String SIMULATED_DEVICES = "vfio.dev/simulated-devices";

  static List<Path> examples() throws IOException {
    try (Stream<Path> files = Files.walk(EXAMPLES)) {
      return files
          .filter(file -> file.toString().endsWith(".yaml"))
          .sorted()
          .map(EXAMPLES::relativize)
          .toList();
    }
  }

  @ParameterizedTest
  @MethodSource("examples")
  void exampleIsReadCompletelyByTheJavaModelAndPassesTheCelRules(Path example) {
    List<Map<String, Object>> documents = documents(example);
    assertFalse(documents.isEmpty(), example + " holds no resource");
    for (Map<String, Object> document : documents) {
      String kind = (String) document.get("kind");
      assertNotNull(kind, example + ": a resource without kind");
      Map<?, ?> metadata = (Map<?, ?>) document.get("metadata");
      Object name = metadata == null ? null : metadata.get("name");
      assertNotNull(name, example + ": a " + kind + " without metadata.name");
      if (!API_VERSION.equals(document.get("apiVersion"))) {
        assertFalse(
            Serialization.unmarshal(Serialization.asJson(document))
                instanceof GenericKubernetesResource,
            example + ": " + kind + " is not a built-in kind");
        continue;
      }
      Class<? extends HasMetadata> type = USER_KINDS.get(kind);
      assertNotNull(type, example + ": " + kind + " is not a kind users create");
      HasMetadata resource = Serialization.unmarshal(Serialization.asJson(document), type);
      // The model keeps a field or value it does not know rather than refuse it (SchemaObject),
      // and the operator refuses an object that holds one.
      assertEquals(
          List.of(),
          ((SchemaObject) ((CustomResource<?, ?>) resource).getSpec()).unrecognized("spec"),
          example + ": the Java model does not know these");
      Map<?, ?> readBack = Serialization.unmarshal(Serialization.asJson(resource), Map.class);
      // This also catches a field the model reads but would not write back, so the operator
      // would act on less than the example says.
      assertEquals(
          CrdValidationRules.toCel(document.get("spec"), null),
          CrdValidationRules.toCel(readBack.get("spec"), null),
          example + ": the Java model does not read the whole spec");
      assertEquals(
          List.of(),
          CrdValidationRules.forKind(kind).validateCreate(document),
          example + " breaks a CEL rule");
    }
  }

  @Test
  void sandboxWorkloadHoldsTwoSimulatedDevices() {
    Pod pod = resources(Pod.class).get("gpu-workload");
    assertNotNull(pod, "examples/sandbox defines no pod gpu-workload");
    assertEquals(
        "0000:3b:00.0,0000:3b:00.1", pod.getMetadata().getAnnotations().get(SIMULATED_DEVICES));
  }

  @Test
  void examplesReferOnlyToSandboxPodsAndExampleSnapshots() {
    Map<String, Pod> pods = resources(Pod.class);
    for (VfioSnapshot snapshot : resources(VfioSnapshot.class).values()) {
      String podName = snapshot.getSpec().getPodName();
      assertTrue(
          pods.containsKey(podName),
          snapshot.getMetadata().getName()
              + " snapshots "
              + podName
              + ", which examples/sandbox does not define");
      List<String> devices = snapshot.getSpec().getDevices();
      if (devices != null) {
        assertTrue(
            simulatedDevices(pods.get(podName)).containsAll(devices),
            snapshot.getMetadata().getName() + " names devices " + podName + " does not hold");
      }
    }
    Set<String> snapshots = resources(VfioSnapshot.class).keySet();
    for (VfioMigration migration : resources(VfioMigration.class).values()) {
      String name = migration.getMetadata().getName();
      VfioMigrationSpec spec = migration.getSpec();
      Pod target = pods.get(spec.getTargetPodName());
      assertNotNull(target, name + " targets a pod examples/sandbox does not define");
      assertEquals(
          "true",
          target.getMetadata().getAnnotations().get(PodAnnotations.RESTORE_TARGET),
          name + " targets a pod that did not opt in: the operator would refuse it");
      String sourcePod = spec.getSource().getPodName();
      if (sourcePod != null) {
        assertTrue(pods.containsKey(sourcePod), name + " migrates from an undefined pod");
      } else {
        assertTrue(
            snapshots.contains(spec.getSource().getSnapshotName()),
            name + " restores a snapshot no example creates");
      }
      for (DeviceMapping mapping :
          spec.getDeviceMap() == null ? List.<DeviceMapping>of() : spec.getDeviceMap()) {
        assertTrue(
            simulatedDevices(pods.get(sourcePod)).contains(mapping.getSource()),
            name + " maps a device the source pod does not hold: " + mapping.getSource());
        assertTrue(
            simulatedDevices(target).contains(mapping.getTarget()),
            name + " maps to a device the target pod does not hold: " + mapping.getTarget());
      }
    }
  }

  @Test
  void allOptionsExampleSetsEverySpecField() {
    Map<String, Object> schema = CrdValidationRules.forKind("VfioSnapshot").openApiSchema();
    Set<String> fields = new TreeSet<>();
    schemaFields(map(map(schema.get("properties")).get("spec")), "", fields);
    Set<String> used = new TreeSet<>();
    valueFields(documents(Path.of("snapshot-all-options.yaml")).get(0).get("spec"), "", used);
    fields.removeAll(used);
    // The operator refuses hooks until they are implemented, so the example shows them commented
    // out.
    fields.removeIf(field -> field.startsWith("hooks"));
    assertEquals(Set.of(), fields, "snapshot-all-options.yaml should show every spec field");
  }

  private static void schemaFields(Map<String, Object> schema, String path, Set<String> fields) {
    Map<String, Object> properties = map(schema.get("properties"));
    if (properties != null) {
      properties.forEach(
          (name, child) -> {
            fields.add(path + name);
            schemaFields(map(child), path + name + ".", fields);
          });
    }
    if (schema.get("items") instanceof Map<?, ?> items) {
      schemaFields(
          map(items), path.isEmpty() ? path : path.substring(0, path.length() - 1) + "[].", fields);
    }
  }

  private static void valueFields(Object value, String path, Set<String> fields) {
    if (value instanceof Map<?, ?> object) {
      object.forEach(
          (name, child) -> {
            fields.add(path + name);
            valueFields(child, path + name + ".", fields);
          });
    } else if (value instanceof List<?> items) {
      items.forEach(
          item -> valueFields(item, path.substring(0, path.length() - 1) + "[].", fields));
    }
  }

  private static List<String> simulatedDevices(Pod pod) {
    String devices = pod == null ? null : pod.getMetadata().getAnnotations().get(SIMULATED_DEVICES);
    return devices == null ? List.of() : List.of(devices.split(","));
  }

  /** Every resource of {@code type} over all examples, by name. */
  private static <T extends HasMetadata> Map<String, T> resources(Class<T> type) {
    List<T> found = new ArrayList<>();
    try {
      for (Path example : examples()) {
        for (Map<String, Object> document : documents(example)) {
          String kind = (String) document.get("kind");
          if (type.getSimpleName().equals(kind)) {
            found.add(Serialization.unmarshal(Serialization.asJson(document), type));
          }
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return found.stream()
        .collect(Collectors.toMap(r -> r.getMetadata().getName(), Function.identity()));
  }

  private static List<Map<String, Object>> documents(Path example) {
    try {
      return CrdValidationRules.yamlDocuments(Files.readString(EXAMPLES.resolve(example)));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> map(Object value) {
    return (Map<String, Object>) value;
  }
}
