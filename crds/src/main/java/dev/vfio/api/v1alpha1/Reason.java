package dev.vfio.api.v1alpha1;

import java.util.Arrays;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Condition and task reasons: the closed set this version writes. Each is documented in
 * docs/troubleshooting.md with what to do; a reason names the cause, never the exception class that
 * carried it.
 *
 * <p>The {@code reason} fields on the wire stay strings: a node agent newer than the operator may
 * write one this version lacks. Read them with {@link #fromWire}; the operator reports such a
 * reason as {@link #UNRECOGNIZED} and keeps the agent's own word in the message.
 */
public enum Reason {
  // Progress and success.
  PENDING("Pending"),
  IN_PROGRESS("InProgress"),
  SUCCEEDED("Succeeded"),
  DELETING("Deleting"),
  WAITING_FOR_INVENTORY("WaitingForInventory"),
  AGENT_BUSY("AgentBusy"),
  SCHEDULED("Scheduled"),
  SUSPENDED("Suspended"),
  RUN_SKIPPED("RunSkipped"),

  // Bad input: nothing was touched.
  INVALID_SPEC("InvalidSpec"),
  POD_NOT_FOUND("PodNotFound"),
  POD_NOT_RUNNING("PodNotRunning"),
  POD_NOT_SCHEDULED("PodNotScheduled"),
  NO_VFIO_DEVICES("NoVfioDevices"),
  DEVICE_NOT_HELD("DeviceNotHeld"),
  DEVICE_NOT_MIGRATABLE("DeviceNotMigratable"),
  MIGRATION_PROTOCOL_V1("MigrationProtocolV1"),
  STORAGE_CLAIM_UNKNOWN("StorageClaimUnknown"),
  NO_AGENT("NoAgent"),
  AGENT_NOT_READY("AgentNotReady"),
  TARGET_NOT_OPTED_IN("TargetNotOptedIn"),
  SNAPSHOT_NOT_FOUND("SnapshotNotFound"),
  SNAPSHOT_NOT_READY("SnapshotNotReady"),
  INCOMPATIBLE_DEVICES("IncompatibleDevices"),
  WAITING_FOR_CAPACITY("WaitingForCapacity"),
  SOURCE_STOPPED("SourceStopped"),
  POD_BUSY("PodBusy"),

  // Failures after work started: the devices were rolled back.
  TIMEOUT("Timeout"),
  CANCELLED("Cancelled"),
  AGENT_RESTARTED("AgentRestarted"),
  POD_CHANGED("PodChanged"),
  DEVICE_ERROR("DeviceError"),
  STORAGE_ERROR("StorageError"),
  STORAGE_FULL("StorageFull"),
  BLOB_CORRUPT("BlobCorrupt"),
  BLOB_UNAUTHENTICATED("BlobUnauthenticated"),
  BLOB_KEY_MISSING("BlobKeyMissing"),
  TASK_LOST("TaskLost"),
  TARGET_POD_CHANGED("TargetPodChanged"),
  STATE_REJECTED("StateRejected"),
  TRANSFER_FAILED("TransferFailed"),
  PEER_IDENTITY_MISMATCH("PeerIdentityMismatch"),
  ENDPOINT_MISMATCH("EndpointMismatch"),
  NODE_LOST("NodeLost"),
  TASK_STALLED("TaskStalled"),

  // Why the operator approves a transport CertificateSigningRequest (its Approved condition).
  AGENT_NODE_VERIFIED("AgentNodeVerified"),
  // Why the operator denies a transport CertificateSigningRequest (its Denied condition).
  REQUESTER_NOT_AGENT("RequesterNotAgent"),
  REQUESTER_NODE_UNKNOWN("RequesterNodeUnknown"),
  REQUEST_MALFORMED("RequestMalformed"),
  REQUESTED_NAME_MISMATCH("RequestedNameMismatch"),

  // A reason on the wire that this version does not know (written by a newer agent).
  UNRECOGNIZED("UnrecognizedReason");

  private static final Map<String, Reason> BY_WIRE =
      Arrays.stream(values()).collect(Collectors.toMap(Reason::wire, Function.identity()));

  private final String wire;

  Reason(String wire) {
    this.wire = wire;
  }

  /** As written in a condition's or a task's {@code reason}. */
  public String wire() {
    return wire;
  }

  /** The reason {@code wire} names, if this version knows it. */
  public static Optional<Reason> fromWire(String wire) {
    return Optional.ofNullable(wire == null ? null : BY_WIRE.get(wire));
  }

  @Override
  public String toString() {
    return wire;
  }
}
