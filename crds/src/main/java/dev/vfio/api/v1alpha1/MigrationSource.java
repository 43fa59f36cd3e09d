package dev.vfio.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;

/** Where the device state comes from: a running pod or a stored snapshot, never both. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(
    value = "has(self.podName) != has(self.snapshotName)",
    message = "set exactly one of source.podName and source.snapshotName")
public class MigrationSource extends SchemaObject {
  @JsonPropertyDescription("Running pod to migrate live from, in the migration's namespace.")
  @Size(max = 253)
  @ValidationRule(
      value = ApiPatterns.DNS_SUBDOMAIN_RULE,
      message = ApiPatterns.DNS_SUBDOMAIN_MESSAGE)
  private String podName;

  @JsonPropertyDescription("Ready VfioSnapshot to restore from, in the migration's namespace.")
  @Size(max = 253)
  @ValidationRule(
      value = ApiPatterns.DNS_SUBDOMAIN_RULE,
      message = ApiPatterns.DNS_SUBDOMAIN_MESSAGE)
  private String snapshotName;

  public String getPodName() {
    return podName;
  }

  public void setPodName(String podName) {
    this.podName = podName;
  }

  public String getSnapshotName() {
    return snapshotName;
  }

  public void setSnapshotName(String snapshotName) {
    this.snapshotName = snapshotName;
  }
}
