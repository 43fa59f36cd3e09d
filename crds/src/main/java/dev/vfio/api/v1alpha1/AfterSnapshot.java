package dev.vfio.api.v1alpha1;

import com.fasterxml.jackson.databind.annotation.JsonDeserialize;

/** What happens to the devices once their state is saved. */
@JsonDeserialize(using = SchemaEnumDeserializer.class)
public enum AfterSnapshot {
  Resume,
  KeepStopped
}
