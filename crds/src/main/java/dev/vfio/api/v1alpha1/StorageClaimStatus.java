package dev.vfio.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** A storage claim the agent mounts, with its free space. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class StorageClaimStatus extends SchemaObject {
  @JsonPropertyDescription("Name of the PersistentVolumeClaim.")
  private String name;

  @JsonPropertyDescription("Usable free space.")
  private Long freeBytes;

  @JsonPropertyDescription("Total size.")
  private Long totalBytes;

  public String getName() {
    return name;
  }

  public void setName(String name) {
    this.name = name;
  }

  public Long getFreeBytes() {
    return freeBytes;
  }

  public void setFreeBytes(Long freeBytes) {
    this.freeBytes = freeBytes;
  }

  public Long getTotalBytes() {
    return totalBytes;
  }

  public void setTotalBytes(Long totalBytes) {
    this.totalBytes = totalBytes;
  }
}
