package dev.vfio.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import java.util.List;

/** A command executed in one container of the pod, before or after the device state is taken. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class ExecHook extends SchemaObject {
  @JsonPropertyDescription("Container to run the command in.")
  private String container;

  @JsonPropertyDescription("Command and arguments, executed without a shell.")
  private List<String> command;

  @JsonPropertyDescription(
      "How long the command may run, as a duration such as 30s (default 30s, at most 1h).")
  @Size(max = 32)
  @ValidationRule(value = ApiPatterns.DURATION_RULE, message = ApiPatterns.DURATION_MESSAGE)
  @ValidationRule(value = ApiPatterns.HOOK_TIMEOUT_RULE, message = ApiPatterns.HOOK_TIMEOUT_MESSAGE)
  private String timeout;

  @JsonPropertyDescription("Fail the operation (default) or Continue when the command fails.")
  private HookErrorMode onError;

  public String getContainer() {
    return container;
  }

  public void setContainer(String container) {
    this.container = container;
  }

  public List<String> getCommand() {
    return command;
  }

  public void setCommand(List<String> command) {
    this.command = command;
  }

  public String getTimeout() {
    return timeout;
  }

  public void setTimeout(String timeout) {
    this.timeout = timeout;
  }

  public HookErrorMode getOnError() {
    return onError;
  }

  public void setOnError(HookErrorMode onError) {
    this.onError = onError;
  }
}
