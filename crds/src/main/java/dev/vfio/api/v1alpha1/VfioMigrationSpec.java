package dev.vfio.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import java.util.List;

/** Which state moves into which pod. Immutable once created. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(value = ApiPatterns.IMMUTABLE_RULE, message = ApiPatterns.IMMUTABLE_MESSAGE)
@ValidationRule(value = "has(self.source)", message = "source is required")
@ValidationRule(
    value = "has(self.targetPodName) && self.targetPodName.size() > 0",
    message = "targetPodName is required")
public class VfioMigrationSpec extends SchemaObject {
  @JsonPropertyDescription("The running pod or the snapshot the state comes from.")
  private MigrationSource source;

  @JsonPropertyDescription(
      "Pod whose devices receive the state; it must carry the annotation vfio.dev/restore-target: \"true\".")
  @Size(max = 253)
  @ValidationRule(
      value = ApiPatterns.DNS_SUBDOMAIN_RULE,
      message = ApiPatterns.DNS_SUBDOMAIN_MESSAGE)
  private String targetPodName;

  @JsonPropertyDescription(
      "Explicit source to target device pairs, each source and each target at most once; by default devices are paired by driver and order.")
  @Size(max = 64)
  @ValidationRule(
      value = ApiPatterns.UNIQUE_SOURCES_RULE,
      message = ApiPatterns.UNIQUE_SOURCES_MESSAGE)
  @ValidationRule(
      value = ApiPatterns.UNIQUE_TARGETS_RULE,
      message = ApiPatterns.UNIQUE_TARGETS_MESSAGE)
  private List<DeviceMapping> deviceMap;

  @JsonPropertyDescription(
      "Auto (default), Direct (agent to agent over TLS) or Storage (through a blob on the storage claim).")
  @Default("Auto")
  private Transport transport;

  @JsonPropertyDescription("PRE_COPY iteration, for devices that support it.")
  private PrecopySpec precopy;

  @JsonPropertyDescription(
      "Freeze (default) stops the source pod's processes with the cgroup v2 freezer while its devices are stopped; None leaves them running.")
  @Default("Freeze")
  private QuiesceMode quiesce;

  @JsonPropertyDescription("Commands run in the source pod around the switchover.")
  private HooksSpec hooks;

  @JsonPropertyDescription(
      "Fail and roll back if not Succeeded this long after start (default 10m, at most 24h).")
  @Size(max = 32)
  @ValidationRule(value = ApiPatterns.DURATION_RULE, message = ApiPatterns.DURATION_MESSAGE)
  @ValidationRule(value = ApiPatterns.TIMEOUT_RULE, message = ApiPatterns.TIMEOUT_MESSAGE)
  private String timeout;

  public MigrationSource getSource() {
    return source;
  }

  public void setSource(MigrationSource source) {
    this.source = source;
  }

  public String getTargetPodName() {
    return targetPodName;
  }

  public void setTargetPodName(String targetPodName) {
    this.targetPodName = targetPodName;
  }

  public List<DeviceMapping> getDeviceMap() {
    return deviceMap;
  }

  public void setDeviceMap(List<DeviceMapping> deviceMap) {
    this.deviceMap = deviceMap;
  }

  public Transport getTransport() {
    return transport;
  }

  public void setTransport(Transport transport) {
    this.transport = transport;
  }

  public PrecopySpec getPrecopy() {
    return precopy;
  }

  public void setPrecopy(PrecopySpec precopy) {
    this.precopy = precopy;
  }

  public QuiesceMode getQuiesce() {
    return quiesce;
  }

  public void setQuiesce(QuiesceMode quiesce) {
    this.quiesce = quiesce;
  }

  public HooksSpec getHooks() {
    return hooks;
  }

  public void setHooks(HooksSpec hooks) {
    this.hooks = hooks;
  }

  /**
   * As {@link VfioSnapshotSpec#quiesceOrDefault()}: the schema's default where the field is unset.
   */
  public Transport transportOrDefault() {
    return transport == null ? Transport.Auto : transport;
  }

  public QuiesceMode quiesceOrDefault() {
    return quiesce == null ? QuiesceMode.Freeze : quiesce;
  }

  public String getTimeout() {
    return timeout;
  }

  public void setTimeout(String timeout) {
    this.timeout = timeout;
  }
}
