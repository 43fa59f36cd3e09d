package dev.vfio.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Size;
import java.util.List;

/** Commands run in the workload around the device state capture, Velero style. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class HooksSpec extends SchemaObject {
  @JsonPropertyDescription("Run before the pod is quiesced.")
  // Bounded: the API server prices the CEL rules of each hook's timeout by the most hooks there can
  // be.
  @Size(max = 16)
  private List<ExecHook> pre;

  @JsonPropertyDescription("Run after the devices are running again.")
  @Size(max = 16)
  private List<ExecHook> post;

  public List<ExecHook> getPre() {
    return pre;
  }

  public void setPre(List<ExecHook> pre) {
    this.pre = pre;
  }

  public List<ExecHook> getPost() {
    return post;
  }

  public void setPost(List<ExecHook> post) {
    this.post = post;
  }
}
