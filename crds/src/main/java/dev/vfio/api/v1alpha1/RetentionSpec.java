package dev.vfio.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;

/**
 * Which of a schedule's ended snapshots it keeps. A snapshot that has not ended is never deleted;
 * of the others, one is deleted as soon as any bound says so.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class RetentionSpec extends SchemaObject {
  @JsonPropertyDescription("How many Ready snapshots to keep, the newest; default 7.")
  @Min(1)
  @Max(1000)
  @Default("7")
  private Integer keepLast;

  @JsonPropertyDescription(
      "How many Failed snapshots to keep for inspection, the newest; default 1.")
  @Min(0)
  @Max(100)
  @Default("1")
  private Integer keepFailed;

  @JsonPropertyDescription(
      "Delete snapshots older than this (counted from their creation), e.g. 168h. Unset: no age"
          + " bound.")
  @Size(max = 32)
  @ValidationRule(value = ApiPatterns.DURATION_RULE, message = ApiPatterns.DURATION_MESSAGE)
  @ValidationRule(value = ApiPatterns.TTL_RULE, message = ApiPatterns.TTL_MESSAGE)
  private String maxAge;

  @JsonPropertyDescription(
      "Delete the oldest Ready snapshots while their state adds up to more than this many bytes;"
          + " the newest Ready snapshot is always kept. Unset: no size bound.")
  @Min(1)
  private Long maxTotalBytes;

  public Integer getKeepLast() {
    return keepLast;
  }

  public void setKeepLast(Integer keepLast) {
    this.keepLast = keepLast;
  }

  public Integer getKeepFailed() {
    return keepFailed;
  }

  public void setKeepFailed(Integer keepFailed) {
    this.keepFailed = keepFailed;
  }

  public String getMaxAge() {
    return maxAge;
  }

  public void setMaxAge(String maxAge) {
    this.maxAge = maxAge;
  }

  public Long getMaxTotalBytes() {
    return maxTotalBytes;
  }

  public void setMaxTotalBytes(Long maxTotalBytes) {
    this.maxTotalBytes = maxTotalBytes;
  }
}
