package dev.vfio.api.v1alpha1;

import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceColumnDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.JSONSchemaProps;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * Turns what the Fabric8 generator writes into the manifests we ship. The generator sorts printer
 * columns by JSON path, which would put Age first in kubectl get; we put them in reading order. It
 * writes no list types; we add those the model declares ({@link ListTypeSet}).
 */
final class CrdManifests {
  static final List<String> KINDS =
      List.of(
          "vfiosnapshots", "vfiomigrations", "vfionodetasks", "vfionodes", "vfiosnapshotschedules");

  private static final List<String> COLUMN_ORDER =
      List.of(
          "Operation",
          "Schedule",
          "Suspend",
          "Last",
          "Next",
          "Snapshots",
          "Phase",
          "Stage",
          "Backend",
          "Node",
          "Source",
          "Source-State",
          "Target",
          "Devices",
          "Ready",
          "Size",
          "Bytes",
          "Progress",
          "Downtime(ms)",
          "Reason",
          "Heartbeat",
          "Age");

  private CrdManifests() {}

  static Path generated(String plural) {
    return Path.of(System.getProperty("vfio.crds.generated"), plural + ".vfio.dev-v1.yml");
  }

  static Path checkedIn(String plural) {
    return Path.of(System.getProperty("vfio.crds.checkedIn"), plural + ".vfio.dev.yaml");
  }

  static String render(String plural) throws IOException {
    CustomResourceDefinition crd =
        Serialization.unmarshal(
            Files.readString(generated(plural)), CustomResourceDefinition.class);
    Class<?> kind = kindClass(crd.getSpec().getNames().getKind());
    crd.getSpec()
        .getVersions()
        .forEach(
            version -> {
              List<CustomResourceColumnDefinition> columns = version.getAdditionalPrinterColumns();
              columns.sort(Comparator.comparingInt(c -> position(c.getName())));
              Map<String, JSONSchemaProps> top =
                  version.getSchema().getOpenAPIV3Schema().getProperties();
              // CustomResource<Spec, Status>: the model of spec and of status.
              Type[] parts =
                  ((ParameterizedType) kind.getGenericSuperclass()).getActualTypeArguments();
              addListTypes((Class<?>) parts[0], top.get("spec"));
              addListTypes((Class<?>) parts[1], top.get("status"));
            });
    return "# Generated from dev.vfio.api.v1alpha1 by the Fabric8 CRD generator; do not edit.\n"
        + "# Regenerate: mvn -pl crds test -Dvfio.crds.update=true\n"
        + Serialization.asYaml(crd);
  }

  private static Class<?> kindClass(String kind) {
    try {
      return Class.forName(VfioSnapshot.class.getPackageName() + "." + kind);
    } catch (ClassNotFoundException e) {
      throw new IllegalStateException("no model class for kind " + kind, e);
    }
  }

  /** Walks the model and its schema together, property by property, into lists and objects. */
  private static void addListTypes(Class<?> model, JSONSchemaProps schema) {
    if (schema == null || schema.getProperties() == null) {
      return;
    }
    for (Class<?> type = model; type != Object.class; type = type.getSuperclass()) {
      for (Field field : type.getDeclaredFields()) {
        JSONSchemaProps property = schema.getProperties().get(field.getName());
        if (property == null) {
          continue;
        }
        Class<?> element = field.getType();
        JSONSchemaProps elementSchema = property;
        if (List.class.isAssignableFrom(element)) {
          if (field.isAnnotationPresent(ListTypeSet.class)) {
            property.setXKubernetesListType("set");
          }
          Type item = ((ParameterizedType) field.getGenericType()).getActualTypeArguments()[0];
          element = item instanceof Class<?> c ? c : Object.class;
          elementSchema = property.getItems() == null ? null : property.getItems().getSchema();
        }
        if (element.getPackage() == VfioSnapshot.class.getPackage()) {
          addListTypes(element, elementSchema);
        }
      }
    }
  }

  private static int position(String column) {
    int index = COLUMN_ORDER.indexOf(column);
    if (index < 0) {
      throw new IllegalStateException("printer column " + column + " has no place in COLUMN_ORDER");
    }
    return index;
  }
}
