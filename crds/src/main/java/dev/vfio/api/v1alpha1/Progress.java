package dev.vfio.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** How far a transfer has come. Kept on the object so that kubectl shows it without metrics. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class Progress extends SchemaObject {
  public Progress() {}

  public Progress(long bytesDone, long totalBytes) {
    this.bytesDone = bytesDone;
    this.totalBytes = totalBytes;
    this.percent = totalBytes <= 0 ? 0 : (int) Math.min(100, bytesDone * 100 / totalBytes);
  }

  @JsonPropertyDescription("Bytes of device state moved so far.")
  private Long bytesDone;

  @JsonPropertyDescription(
      "Estimated total bytes of device state (from MIG_DATA_SIZE where the device reports it).")
  private Long totalBytes;

  @JsonPropertyDescription("bytesDone as a percentage of totalBytes, 0 to 100.")
  private Integer percent;

  @JsonPropertyDescription(
      "How PRE_COPY stands, from the node task that reads the devices, while the devices are in PRE_COPY.")
  private PrecopyProgress precopy;

  public Long getBytesDone() {
    return bytesDone;
  }

  public void setBytesDone(Long bytesDone) {
    this.bytesDone = bytesDone;
  }

  public Long getTotalBytes() {
    return totalBytes;
  }

  public void setTotalBytes(Long totalBytes) {
    this.totalBytes = totalBytes;
  }

  public Integer getPercent() {
    return percent;
  }

  public void setPercent(Integer percent) {
    this.percent = percent;
  }

  public PrecopyProgress getPrecopy() {
    return precopy;
  }

  public void setPrecopy(PrecopyProgress precopy) {
    this.precopy = precopy;
  }
}
