package dev.vfio.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;

/** Pairs one source device with one target device. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class DeviceMapping extends SchemaObject {
  @JsonPropertyDescription("Source device address (PCI address or mdev UUID).")
  @Required
  @Size(max = 36)
  @ValidationRule(value = ApiPatterns.DEVICE_RULE, message = ApiPatterns.DEVICE_MESSAGE)
  private String source;

  @JsonPropertyDescription("Target device address (PCI address or mdev UUID).")
  @Required
  @Size(max = 36)
  @ValidationRule(value = ApiPatterns.DEVICE_RULE, message = ApiPatterns.DEVICE_MESSAGE)
  private String target;

  public String getSource() {
    return source;
  }

  public void setSource(String source) {
    this.source = source;
  }

  public String getTarget() {
    return target;
  }

  public void setTarget(String target) {
    this.target = target;
  }
}
