package dev.vfio.api.v1alpha1;

import com.fasterxml.jackson.databind.annotation.JsonDeserialize;

/** What a failing hook does to the operation. */
@JsonDeserialize(using = SchemaEnumDeserializer.class)
public enum HookErrorMode {
  Fail,
  Continue
}
