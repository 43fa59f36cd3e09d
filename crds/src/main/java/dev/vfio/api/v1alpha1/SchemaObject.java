package dev.vfio.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonAnyGetter;
import com.fasterxml.jackson.annotation.JsonAnySetter;
import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.databind.JsonNode;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Base of every object in the vfio.dev schema, spec and status of every kind: a field, or a value
 * of an enum field, that this version does not know is kept instead of refused.
 *
 * <p>Why: while the CRDs and the operator or the agents are at different versions, as during an
 * upgrade, the API server stores objects that are valid under a newer schema. Refusing one while
 * reading it stops the informer, and with it every object of the kind; kept here, it reaches the
 * code that reads the object, which decides: the preflights refuse a spec that holds any ({@link
 * #unrecognized}), a status is read as far as it is understood. Serialization writes them back
 * unchanged, so neither a copy of the object nor a patch computed from one drops them.
 *
 * <p>The any-setter and any-getter change no CRD: the generator marks such objects
 * x-kubernetes-preserve-unknown-fields only when told to, which this build does not, and the drift
 * test holds the manifests to that.
 */
public abstract class SchemaObject {
  /** By field name, in the order read. */
  private final Map<String, Kept> kept = new LinkedHashMap<>();

  /** {@code knownValues} is empty for an unknown field, else the values its enum knows. */
  private record Kept(JsonNode value, List<String> knownValues) {}

  @JsonAnySetter
  public void keepUnknownField(String name, JsonNode value) {
    kept.put(name, new Kept(value, List.of()));
  }

  /**
   * For {@link SchemaEnumDeserializer}: {@code name} is a known enum field, {@code value} none of
   * its values.
   */
  void keepUnknownValue(String name, JsonNode value, List<String> knownValues) {
    kept.put(name, new Kept(value, knownValues));
  }

  /**
   * Ignored as a property, as in Fabric8's own model, so that the CRD generator lists no such
   * field.
   */
  @JsonAnyGetter
  @JsonIgnore
  public Map<String, JsonNode> keptFields() {
    Map<String, JsonNode> fields = new LinkedHashMap<>();
    kept.forEach((name, k) -> fields.put(name, k.value()));
    return fields;
  }

  /**
   * What this object and the schema objects in it hold that this version does not know, sorted by
   * path; {@code path} names this object, as in "spec". Empty when everything was understood.
   */
  public List<Unrecognized> unrecognized(String path) {
    List<Unrecognized> found = new ArrayList<>();
    collect(path, found);
    found.sort(Comparator.comparing(Unrecognized::path));
    return found;
  }

  private void collect(String path, List<Unrecognized> found) {
    kept.forEach(
        (name, k) -> found.add(new Unrecognized(path + "." + name, k.value(), k.knownValues())));
    // The nested objects are found by reflection, not from a list each class keeps: one added to
    // the schema later is searched without anyone remembering to, and a forgotten one would be a
    // setting silently ignored. Field names are the JSON names, the model renames none.
    for (Class<?> type = getClass(); type != SchemaObject.class; type = type.getSuperclass()) {
      for (Field field : type.getDeclaredFields()) {
        if (Modifier.isStatic(field.getModifiers())) {
          continue;
        }
        String fieldPath = path + "." + field.getName();
        Object value = read(field);
        if (value instanceof SchemaObject child) {
          child.collect(fieldPath, found);
        } else if (value instanceof List<?> list) {
          for (int i = 0; i < list.size(); i++) {
            if (list.get(i) instanceof SchemaObject child) {
              child.collect(fieldPath + "[" + i + "]", found);
            }
          }
        }
      }
    }
  }

  private Object read(Field field) {
    try {
      field.setAccessible(true);
      return field.get(this);
    } catch (IllegalAccessException e) {
      throw new IllegalStateException("the model's own fields are readable after setAccessible", e);
    }
  }
}
