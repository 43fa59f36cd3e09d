package dev.vfio.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;

/** PRE_COPY iteration while the workload runs, used only when a device advertises PRE_COPY. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class PrecopySpec extends SchemaObject {
  @JsonPropertyDescription("Iterate PRE_COPY before stopping the device (default true when the device supports it).")
  private Boolean enabled;

  @JsonPropertyDescription("Upper bound on PRE_COPY rounds before switching to STOP_COPY (default 5).")
  @Min(1)
  @Max(1000)
  private Integer maxRounds;

  @JsonPropertyDescription("Stop iterating when the device reports fewer pending bytes than this (default 1 MiB).")
  @Min(0)
  private Long thresholdBytes;

  public Boolean getEnabled() {
    return enabled;
  }

  public void setEnabled(Boolean enabled) {
    this.enabled = enabled;
  }

  public Integer getMaxRounds() {
    return maxRounds;
  }

  public void setMaxRounds(Integer maxRounds) {
    this.maxRounds = maxRounds;
  }

  public Long getThresholdBytes() {
    return thresholdBytes;
  }

  public void setThresholdBytes(Long thresholdBytes) {
    this.thresholdBytes = thresholdBytes;
  }

}
