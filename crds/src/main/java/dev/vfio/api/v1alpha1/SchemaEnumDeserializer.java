package dev.vfio.api.v1alpha1;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.BeanProperty;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.deser.ContextualDeserializer;
import com.fasterxml.jackson.databind.deser.std.StdDeserializer;
import java.io.IOException;
import java.util.Arrays;
import java.util.List;

/**
 * Reads every enum of the schema. A value this version does not know is no error in a field of a
 * {@link SchemaObject}: the field reads as null and the object keeps the value as it was, for the
 * preflights to name it and for serialization to write it back. Anywhere else it fails as Jackson's
 * own enum deserializer would.
 *
 * <p>Why not an extra constant, such as {@code Unrecognized} with {@code @JsonEnumDefaultValue}:
 * the CRD generator lists every constant in the schema's enum, so the API server would accept it
 * from users, and the value the message has to name would be lost.
 */
final class SchemaEnumDeserializer extends StdDeserializer<Enum<?>>
    implements ContextualDeserializer {
  private final List<Enum<?>> constants;

  /**
   * What {@code @JsonDeserialize(using = ...)} instantiates; Jackson contextualizes it per enum
   * before use.
   */
  SchemaEnumDeserializer() {
    this(Enum.class, List.of());
  }

  private SchemaEnumDeserializer(Class<?> type, List<Enum<?>> constants) {
    super(type);
    this.constants = constants;
  }

  @Override
  public JsonDeserializer<?> createContextual(DeserializationContext ctxt, BeanProperty property) {
    Class<?> type = ctxt.getContextualType().getRawClass();
    return new SchemaEnumDeserializer(type, Arrays.asList((Enum<?>[]) type.getEnumConstants()));
  }

  @Override
  public Enum<?> deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
    JsonNode value = ctxt.readTree(p);
    for (Enum<?> constant : constants) {
      if (value.isTextual() && constant.name().equals(value.textValue())) {
        return constant;
      }
    }
    List<String> names = constants.stream().map(Enum::name).toList();
    // The parser's current value is the object being read, which Jackson's bean deserializer
    // sets for deserializers like this one (databind#631).
    if (p.currentValue() instanceof SchemaObject holder) {
      holder.keepUnknownValue(p.currentName(), value, names);
      return null;
    }
    return (Enum<?>)
        ctxt.handleWeirdStringValue(
            handledType(),
            value.toString(),
            "not one of the values accepted for Enum class: %s",
            names);
  }
}
