package dev.vfio.api.v1alpha1;

import com.fasterxml.jackson.databind.annotation.JsonDeserialize;

/** How a pod's processes are held still while its devices are stopped. */
@JsonDeserialize(using = SchemaEnumDeserializer.class)
public enum QuiesceMode {
  Freeze,
  None
}
