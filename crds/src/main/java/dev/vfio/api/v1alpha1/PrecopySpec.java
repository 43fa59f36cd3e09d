package dev.vfio.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;

/** PRE_COPY iteration while the workload runs, used only when a device advertises PRE_COPY. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class PrecopySpec extends SchemaObject {
  /**
   * PRE_COPY rounds before STOP_COPY when {@code maxRounds} is unset; the schema declares the same.
   */
  public static final int DEFAULT_MAX_ROUNDS = 5;

  /** The pending bytes below which PRE_COPY stops when {@code thresholdBytes} is unset. */
  public static final long DEFAULT_THRESHOLD_BYTES = 1 << 20;

  @JsonPropertyDescription(
      "Iterate PRE_COPY before stopping the device (default true when the device supports it).")
  @Default("true")
  private Boolean enabled;

  @JsonPropertyDescription(
      "Upper bound on PRE_COPY rounds before switching to STOP_COPY (default 5).")
  @Min(1)
  @Max(1000)
  @Default("5")
  private Integer maxRounds;

  @JsonPropertyDescription(
      "Stop iterating when the device reports fewer pending bytes than this (default 1 MiB).")
  @Min(0)
  @Default("1048576")
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

  /**
   * Whether PRE_COPY runs (where the device supports it) under {@code precopy}, which may be null
   * or lack the field: the API server fills the schema's defaults in, but an object stored under an
   * older CRD, or one built in code, may not have them.
   */
  public static boolean enabled(PrecopySpec precopy) {
    return precopy == null || precopy.enabled == null || precopy.enabled;
  }

  /** The most PRE_COPY rounds under {@code precopy}, as {@link #enabled(PrecopySpec)} reads it. */
  public static int maxRounds(PrecopySpec precopy) {
    return precopy == null || precopy.maxRounds == null ? DEFAULT_MAX_ROUNDS : precopy.maxRounds;
  }

  /**
   * The PRE_COPY stop threshold under {@code precopy}, as {@link #enabled(PrecopySpec)} reads it.
   */
  public static long thresholdBytes(PrecopySpec precopy) {
    return precopy == null || precopy.thresholdBytes == null
        ? DEFAULT_THRESHOLD_BYTES
        : precopy.thresholdBytes;
  }

  public void setThresholdBytes(Long thresholdBytes) {
    this.thresholdBytes = thresholdBytes;
  }
}
