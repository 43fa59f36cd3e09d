package dev.vfio.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** The pod holding a device. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class PodReference extends SchemaObject {
  @JsonPropertyDescription("Namespace of the pod.")
  private String namespace;

  @JsonPropertyDescription("Name of the pod.")
  private String name;

  @JsonPropertyDescription("UID of the pod.")
  private String uid;

  public String getNamespace() {
    return namespace;
  }

  public void setNamespace(String namespace) {
    this.namespace = namespace;
  }

  public String getName() {
    return name;
  }

  public void setName(String name) {
    this.name = name;
  }

  public String getUid() {
    return uid;
  }

  public void setUid(String uid) {
    this.uid = uid;
  }
}
