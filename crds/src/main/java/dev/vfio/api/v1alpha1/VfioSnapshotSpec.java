package dev.vfio.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import java.util.List;

/** What to checkpoint. Immutable once created. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(value = ApiPatterns.IMMUTABLE_RULE, message = ApiPatterns.IMMUTABLE_MESSAGE)
@ValidationRule(
    value = "has(self.podName) && self.podName.size() > 0",
    message = "podName is required")
public class VfioSnapshotSpec extends SchemaObject {
  @JsonPropertyDescription(
      "Name of the pod, in the snapshot's namespace, whose VFIO device state is saved.")
  @Size(max = 253)
  @ValidationRule(
      value = ApiPatterns.DNS_SUBDOMAIN_RULE,
      message = ApiPatterns.DNS_SUBDOMAIN_MESSAGE)
  private String podName;

  @JsonPropertyDescription(
      "PCI addresses or mdev UUIDs of the devices to save, each at most once; empty means every VFIO device the pod holds.")
  @Size(max = 64)
  @ListTypeSet
  @ValidationRule(value = ApiPatterns.DEVICE_LIST_RULE, message = ApiPatterns.DEVICE_MESSAGE)
  private List<@Size(max = 36) String> devices;

  @JsonPropertyDescription(
      "Storage claim the blobs are written to; must be one the agents mount (default from the operator configuration).")
  @Size(max = 253)
  @ValidationRule(
      value = ApiPatterns.DNS_SUBDOMAIN_RULE,
      message = ApiPatterns.DNS_SUBDOMAIN_MESSAGE)
  private String storageClaim;

  @JsonPropertyDescription(
      "Freeze (default) stops the pod's processes with the cgroup v2 freezer while the device is stopped; None leaves them running.")
  @Default("Freeze")
  private QuiesceMode quiesce;

  @JsonPropertyDescription("Commands run in the pod before quiescing and after resuming.")
  private HooksSpec hooks;

  @JsonPropertyDescription("PRE_COPY iteration, for devices that support it.")
  private PrecopySpec precopy;

  @JsonPropertyDescription(
      "Resume (default) returns the devices to RUNNING after the save; KeepStopped leaves them stopped and the pod frozen.")
  @Default("Resume")
  private AfterSnapshot afterSnapshot;

  @JsonPropertyDescription("None (default) or Zstd compression of the blob.")
  @Default("None")
  private Compression compression;

  @JsonPropertyDescription(
      "None (default): every 1 MiB chunk of a blob carries a CRC-32C, which catches damage. SHA256: the blob also carries a SHA-256 digest of the state, reported in status.devices[].sha256, for about 0.8 CPU second per GiB saved and again per GiB restored.")
  @Default("None")
  private Digest digest;

  @JsonPropertyDescription(
      "Delete (default) removes the blobs when the snapshot is deleted; Retain keeps them.")
  @Default("Delete")
  private DeletionPolicy deletionPolicy;

  @JsonPropertyDescription(
      "Delete the snapshot this long after it became Ready, as a duration such as 24h (at most 87600h, 10 years).")
  @Size(max = 32)
  @ValidationRule(value = ApiPatterns.DURATION_RULE, message = ApiPatterns.DURATION_MESSAGE)
  @ValidationRule(value = ApiPatterns.TTL_RULE, message = ApiPatterns.TTL_MESSAGE)
  private String ttl;

  @JsonPropertyDescription(
      "Fail and roll back if the snapshot is not Ready this long after it started (default 10m, at most 24h).")
  @Size(max = 32)
  @ValidationRule(value = ApiPatterns.DURATION_RULE, message = ApiPatterns.DURATION_MESSAGE)
  @ValidationRule(value = ApiPatterns.TIMEOUT_RULE, message = ApiPatterns.TIMEOUT_MESSAGE)
  private String timeout;

  public String getPodName() {
    return podName;
  }

  public void setPodName(String podName) {
    this.podName = podName;
  }

  public List<String> getDevices() {
    return devices;
  }

  public void setDevices(List<String> devices) {
    this.devices = devices;
  }

  public String getStorageClaim() {
    return storageClaim;
  }

  public void setStorageClaim(String storageClaim) {
    this.storageClaim = storageClaim;
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

  public PrecopySpec getPrecopy() {
    return precopy;
  }

  public void setPrecopy(PrecopySpec precopy) {
    this.precopy = precopy;
  }

  public AfterSnapshot getAfterSnapshot() {
    return afterSnapshot;
  }

  public void setAfterSnapshot(AfterSnapshot afterSnapshot) {
    this.afterSnapshot = afterSnapshot;
  }

  public Digest getDigest() {
    return digest;
  }

  public void setDigest(Digest digest) {
    this.digest = digest;
  }

  public Compression getCompression() {
    return compression;
  }

  public void setCompression(Compression compression) {
    this.compression = compression;
  }

  public DeletionPolicy getDeletionPolicy() {
    return deletionPolicy;
  }

  public void setDeletionPolicy(DeletionPolicy deletionPolicy) {
    this.deletionPolicy = deletionPolicy;
  }

  /**
   * What the spec asks for, with the schema's defaults where a field is unset: the API server fills
   * them in, but an object stored under an older CRD, or one built in code, may lack them.
   */
  public QuiesceMode quiesceOrDefault() {
    return quiesce == null ? QuiesceMode.Freeze : quiesce;
  }

  public AfterSnapshot afterSnapshotOrDefault() {
    return afterSnapshot == null ? AfterSnapshot.Resume : afterSnapshot;
  }

  public Compression compressionOrDefault() {
    return compression == null ? Compression.None : compression;
  }

  public Digest digestOrDefault() {
    return digest == null ? Digest.None : digest;
  }

  public DeletionPolicy deletionPolicyOrDefault() {
    return deletionPolicy == null ? DeletionPolicy.Delete : deletionPolicy;
  }

  public String getTtl() {
    return ttl;
  }

  public void setTtl(String ttl) {
    this.ttl = ttl;
  }

  public String getTimeout() {
    return timeout;
  }

  public void setTimeout(String timeout) {
    this.timeout = timeout;
  }
}
