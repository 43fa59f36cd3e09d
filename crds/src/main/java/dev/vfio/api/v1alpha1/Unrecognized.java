package dev.vfio.api.v1alpha1;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;

/**
 * Something a stored object holds that this version does not know: a field, or a value of an enum
 * field it knows; see {@link SchemaObject}.
 *
 * @param path where, as in {@code spec.hooks.pre[0].onError}
 * @param value the JSON found there
 * @param knownValues the values this version knows for the field; empty when the field itself is
 *     unknown
 */
public record Unrecognized(String path, JsonNode value, List<String> knownValues) {
  public Unrecognized {
    knownValues = List.copyOf(knownValues);
  }

  /** For a condition message; {@code reader} is who does not know it, as in "this operator". */
  public String describe(String reader) {
    return knownValues.isEmpty()
        ? path + " is not a field " + reader + " knows"
        : path
            + ": "
            + value
            + " is not a value "
            + reader
            + " knows ("
            + String.join(", ", knownValues)
            + ")";
  }
}
