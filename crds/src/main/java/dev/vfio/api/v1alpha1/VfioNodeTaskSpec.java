package dev.vfio.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import java.util.List;

/**
 * One unit of node-local work, written by the operator for the agent of spec.nodeName. Not
 * immutable as a whole: the operator sets cancelRequested on a running task, and switchover.
 *
 * <p>Past 300 lines: a CRD model, its length the fields' accessors and the CEL rules that hold each
 * operation to its invariants, which belong with the fields they check.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
// Agents select their tasks by nodeName (VfioNodeTask.NODE_FIELD): no agent would see a task
// without one.
@ValidationRule(
    value = "has(self.nodeName) && self.nodeName.size() > 0",
    message = "nodeName is required")
// The invariants of each operation, so that no task reaches an agent half-formed whoever wrote it
// (the agent checks them again). Each rule skips a missing operation, which the first reports.
@ValidationRule(value = "has(self.operation)", message = VfioNodeTaskSpec.OPERATION_REQUIRED)
@ValidationRule(
    value =
        "!has(self.operation) || self.operation == 'DeleteBlobs' || (has(self.podName)"
            + " && self.podName.size() > 0 && has(self.devices) && self.devices.size() > 0)",
    message = VfioNodeTaskSpec.POD_REQUIRED)
// A Send may name no UID: the operator still writes it when the source pod is gone, and the
// agent fails it PodGone.
@ValidationRule(
    value = "!has(self.operation) || self.operation in ['DeleteBlobs', 'Send'] || has(self.podUid)",
    message = VfioNodeTaskSpec.POD_UID_REQUIRED)
@ValidationRule(
    value =
        "!has(self.operation) || !(self.operation in ['Save', 'Load', 'DeleteBlobs'])"
            + " || (has(self.storageClaim) && has(self.blobDirectory))",
    message = VfioNodeTaskSpec.STORAGE_REQUIRED)
@ValidationRule(
    value =
        "!has(self.operation) || self.operation in ['Save', 'Load', 'DeleteBlobs']"
            + " || (!has(self.storageClaim) && !has(self.blobDirectory))",
    message = VfioNodeTaskSpec.STORAGE_ONLY)
@ValidationRule(
    value =
        "!has(self.operation) || !(self.operation in ['Load', 'Send', 'Receive'])"
            + " || (has(self.deviceMap) && self.deviceMap.size() > 0)",
    message = VfioNodeTaskSpec.DEVICE_MAP_REQUIRED)
@ValidationRule(
    value =
        "!has(self.operation) || !(self.operation in ['Resume', 'DeleteBlobs'])"
            + " || !has(self.deviceMap)",
    message = VfioNodeTaskSpec.DEVICE_MAP_ONLY)
@ValidationRule(
    value =
        "!has(self.operation) || self.operation != 'Send' || (has(self.endpoint) && has(self.token))",
    message = VfioNodeTaskSpec.SEND_PEER_REQUIRED)
@ValidationRule(
    value = "!has(self.operation) || self.operation != 'Receive' || has(self.token)",
    message = VfioNodeTaskSpec.RECEIVE_TOKEN_REQUIRED)
// Each side checks that the peer's transport certificate names this node: without it either
// would stream to, or take state from, any agent holding a certificate.
@ValidationRule(
    value =
        "!has(self.operation) || !(self.operation in ['Send', 'Receive'])"
            + " || (has(self.peerNode) && self.peerNode.size() > 0)",
    message = VfioNodeTaskSpec.PEER_NODE_REQUIRED)
@ValidationRule(
    value =
        "!has(self.operation) || self.operation in ['Send', 'Receive']"
            + " || (!has(self.token) && !has(self.endpoint) && !has(self.byteBudget)"
            + " && !has(self.peerNode))",
    message = VfioNodeTaskSpec.PEER_ONLY)
@ValidationRule(
    value =
        "!has(self.operation) || (self.operation != 'Send' || !has(self.byteBudget))"
            + " && (self.operation != 'Receive' || !has(self.endpoint))",
    message = VfioNodeTaskSpec.PEER_ONLY)
// The commit point of a live migration must hold once written: an agent that read Commit leaves
// the source stopped, so taking it back would let both sides run.
@ValidationRule(
    value = ApiPatterns.SET_ONCE_SWITCHOVER_RULE,
    message = ApiPatterns.SET_ONCE_SWITCHOVER_MESSAGE)
public class VfioNodeTaskSpec extends SchemaObject {
  static final String BLOB_DIRECTORY_SHAPE =
      "blobDirectory is <namespace>/<name>: two lowercase names joined by one '/'";
  static final String OPERATION_REQUIRED = "operation is required";
  static final String POD_REQUIRED =
      "Save, Load, Send, Receive and Resume name a podName and at least one device";
  static final String POD_UID_REQUIRED = "Save, Load, Receive and Resume name the pod's podUid";
  static final String STORAGE_REQUIRED =
      "Save, Load and DeleteBlobs name a storageClaim and a blobDirectory";
  static final String STORAGE_ONLY =
      "only Save, Load and DeleteBlobs name a storageClaim or blobDirectory";
  static final String DEVICE_MAP_REQUIRED =
      "Load, Send and Receive pair their devices in deviceMap";
  static final String DEVICE_MAP_ONLY = "Resume and DeleteBlobs have no deviceMap";
  static final String SEND_PEER_REQUIRED = "Send names the receiver's endpoint and token";
  static final String RECEIVE_TOKEN_REQUIRED = "Receive names the token its sender presents";
  static final String PEER_NODE_REQUIRED =
      "Send and Receive name the peerNode whose agent is on the other side";
  static final String PEER_ONLY =
      "token and peerNode only for Send and Receive, endpoint only for Send, byteBudget only for"
          + " Receive";

  @JsonPropertyDescription("Save, Load, Send, Receive, DeleteBlobs or Resume.")
  private TaskOperation operation;

  @JsonPropertyDescription("Node whose agent runs the task; immutable.")
  // Moving a task would hand it to a second agent while the first may still hold its devices.
  @ValidationRule(
      value = ApiPatterns.IMMUTABLE_RULE,
      message = "nodeName is immutable: a task runs on the node it was created for")
  private String nodeName;

  @JsonPropertyDescription("Pod whose devices the task acts on.")
  private String podName;

  @JsonPropertyDescription(
      "UID of that pod, so that a recreated pod of the same name is never touched.")
  private String podUid;

  @JsonPropertyDescription("Device addresses to act on, each at most once.")
  @ListTypeSet
  private List<String> devices;

  @JsonPropertyDescription("Storage claim holding the blobs.")
  private String storageClaim;

  @JsonPropertyDescription(
      "Directory of the blobs relative to the claim root: <namespace>/<snapshot>.")
  // Two names and nothing else: no '..', no absolute path, no deeper directory. A namespace
  // (63) and a name (253) joined by '/'.
  @Size(max = 317)
  @ValidationRule(
      value = "self.matches(" + "'^[a-z0-9]([-a-z0-9]*[a-z0-9])?/[a-z0-9]([-.a-z0-9]*[a-z0-9])?$')",
      message = VfioNodeTaskSpec.BLOB_DIRECTORY_SHAPE)
  private String blobDirectory;

  @JsonPropertyDescription(
      "For Save and Load: UID of the VfioSnapshot, or of the VfioMigration through storage, whose"
          + " blobs these are. Every blob's tags bind it, so a blob of another snapshot, or of an"
          + " earlier snapshot of the same name, is refused.")
  private String blobSetUid;

  @JsonPropertyDescription("How to quiesce the pod.")
  private QuiesceMode quiesce;

  @JsonPropertyDescription("Whether devices resume after a Save.")
  private AfterSnapshot afterSave;

  @JsonPropertyDescription("Blob compression for a Save.")
  private Compression compression;

  @JsonPropertyDescription(
      "Whether the blobs of a Save carry a SHA-256 digest besides their chunk CRCs.")
  private Digest digest;

  @JsonPropertyDescription("PRE_COPY iteration settings.")
  private PrecopySpec precopy;

  @JsonPropertyDescription("Hooks to run in the pod.")
  private HooksSpec hooks;

  @JsonPropertyDescription("RFC 3339 time after which the agent abandons the task and rolls back.")
  private String deadline;

  @JsonPropertyDescription("Set by the operator to stop the task and roll its devices back.")
  private Boolean cancelRequested;

  @JsonPropertyDescription(
      "For Send and Receive, set by the operator once the Send reported Sent and the Receive Loaded: Commit leaves the source stopped and runs the target. Once set it cannot change or be removed.")
  private SwitchoverDecision switchover;

  @JsonPropertyDescription(
      "Source to target device pairs, each source and each target at most once: for Load the blob of source is loaded into target; for Send and Receive the stream of source goes to target.")
  // As bounded as the migration's: the API server refuses a CRD whose CEL rules (those of each
  // mapping's addresses) could cost more than its budget on an unbounded list.
  @Size(max = 64)
  @ValidationRule(
      value = ApiPatterns.UNIQUE_SOURCES_RULE,
      message = ApiPatterns.UNIQUE_SOURCES_MESSAGE)
  @ValidationRule(
      value = ApiPatterns.UNIQUE_TARGETS_RULE,
      message = ApiPatterns.UNIQUE_TARGETS_MESSAGE)
  private List<DeviceMapping> deviceMap;

  @JsonPropertyDescription(
      "Secret shared by a Send and its Receive task; the receiver accepts no stream without it.")
  private String token;

  @JsonPropertyDescription("For Send: where the Receive task listens.")
  private TaskEndpoint endpoint;

  @JsonPropertyDescription("For Receive: the most bytes the listener accepts over all streams.")
  private Long byteBudget;

  @JsonPropertyDescription(
      "For Send: the node of the Receive task; for Receive: the node of the Send task. The peer's"
          + " transport certificate must name this node, or the stream is refused"
          + " (PeerIdentityMismatch).")
  private String peerNode;

  @JsonPropertyDescription(
      "Deprecated, no longer written: the label vfio.dev/parent-uid names the snapshot or migration a task works for. Kept so that an agent accepts the tasks an older operator wrote.")
  // Not removed yet: an agent refuses a task holding a field it does not know, and a task written
  // by
  // the previous operator during an upgrade carries this one (docs/decisions/0006-task-parent.md).
  private String parent;

  public TaskOperation getOperation() {
    return operation;
  }

  public void setOperation(TaskOperation operation) {
    this.operation = operation;
  }

  public String getNodeName() {
    return nodeName;
  }

  public void setNodeName(String nodeName) {
    this.nodeName = nodeName;
  }

  public String getPodName() {
    return podName;
  }

  public void setPodName(String podName) {
    this.podName = podName;
  }

  public String getPodUid() {
    return podUid;
  }

  public void setPodUid(String podUid) {
    this.podUid = podUid;
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

  public String getBlobDirectory() {
    return blobDirectory;
  }

  public void setBlobDirectory(String blobDirectory) {
    this.blobDirectory = blobDirectory;
  }

  public String getBlobSetUid() {
    return blobSetUid;
  }

  public void setBlobSetUid(String blobSetUid) {
    this.blobSetUid = blobSetUid;
  }

  public QuiesceMode getQuiesce() {
    return quiesce;
  }

  public void setQuiesce(QuiesceMode quiesce) {
    this.quiesce = quiesce;
  }

  public AfterSnapshot getAfterSave() {
    return afterSave;
  }

  public void setAfterSave(AfterSnapshot afterSave) {
    this.afterSave = afterSave;
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

  public PrecopySpec getPrecopy() {
    return precopy;
  }

  public void setPrecopy(PrecopySpec precopy) {
    this.precopy = precopy;
  }

  public HooksSpec getHooks() {
    return hooks;
  }

  public void setHooks(HooksSpec hooks) {
    this.hooks = hooks;
  }

  public String getDeadline() {
    return deadline;
  }

  public void setDeadline(String deadline) {
    this.deadline = deadline;
  }

  public Boolean getCancelRequested() {
    return cancelRequested;
  }

  public void setCancelRequested(Boolean cancelRequested) {
    this.cancelRequested = cancelRequested;
  }

  public SwitchoverDecision getSwitchover() {
    return switchover;
  }

  public void setSwitchover(SwitchoverDecision switchover) {
    this.switchover = switchover;
  }

  /** Whether the operator committed the switchover of this Send or Receive. */
  public boolean committed() {
    return switchover == SwitchoverDecision.Commit;
  }

  public List<DeviceMapping> getDeviceMap() {
    return deviceMap;
  }

  public void setDeviceMap(List<DeviceMapping> deviceMap) {
    this.deviceMap = deviceMap;
  }

  public String getPeerNode() {
    return peerNode;
  }

  public void setPeerNode(String peerNode) {
    this.peerNode = peerNode;
  }

  public String getToken() {
    return token;
  }

  public void setToken(String token) {
    this.token = token;
  }

  public TaskEndpoint getEndpoint() {
    return endpoint;
  }

  public void setEndpoint(TaskEndpoint endpoint) {
    this.endpoint = endpoint;
  }

  public Long getByteBudget() {
    return byteBudget;
  }

  public void setByteBudget(Long byteBudget) {
    this.byteBudget = byteBudget;
  }

  public String getParent() {
    return parent;
  }

  public void setParent(String parent) {
    this.parent = parent;
  }
}
