package dev.vfio.api.v1alpha1;

/**
 * Condition and task reasons. Each is documented in docs/troubleshooting.md with what to do; a
 * reason names the cause, never the exception class that carried it.
 */
public final class Reasons {
  // Progress and success.
  public static final String PENDING = "Pending";
  public static final String IN_PROGRESS = "InProgress";
  public static final String SUCCEEDED = "Succeeded";
  public static final String DELETING = "Deleting";
  public static final String WAITING_FOR_INVENTORY = "WaitingForInventory";

  // Bad input: nothing was touched.
  public static final String INVALID_SPEC = "InvalidSpec";
  public static final String POD_NOT_FOUND = "PodNotFound";
  public static final String POD_NOT_RUNNING = "PodNotRunning";
  public static final String POD_NOT_SCHEDULED = "PodNotScheduled";
  public static final String NO_VFIO_DEVICES = "NoVfioDevices";
  public static final String DEVICE_NOT_HELD = "DeviceNotHeld";
  public static final String DEVICE_NOT_MIGRATABLE = "DeviceNotMigratable";
  public static final String STORAGE_CLAIM_UNKNOWN = "StorageClaimUnknown";
  public static final String NO_AGENT = "NoAgent";
  public static final String AGENT_NOT_READY = "AgentNotReady";
  public static final String TARGET_NOT_OPTED_IN = "TargetNotOptedIn";
  public static final String SNAPSHOT_NOT_FOUND = "SnapshotNotFound";
  public static final String SNAPSHOT_NOT_READY = "SnapshotNotReady";
  public static final String INCOMPATIBLE_DEVICES = "IncompatibleDevices";
  public static final String WAITING_FOR_CAPACITY = "WaitingForCapacity";
  public static final String SOURCE_STOPPED = "SourceStopped";

  // Failures after work started: the devices were rolled back.
  public static final String TIMEOUT = "Timeout";
  public static final String CANCELLED = "Cancelled";
  public static final String AGENT_RESTARTED = "AgentRestarted";
  public static final String POD_CHANGED = "PodChanged";
  public static final String DEVICE_ERROR = "DeviceError";
  public static final String QUIESCE_FAILED = "QuiesceFailed";
  public static final String HOOK_FAILED = "HookFailed";
  public static final String STORAGE_ERROR = "StorageError";
  public static final String STORAGE_FULL = "StorageFull";
  public static final String BLOB_CORRUPT = "BlobCorrupt";
  public static final String BLOB_UNAUTHENTICATED = "BlobUnauthenticated";
  public static final String BLOB_KEY_MISSING = "BlobKeyMissing";
  public static final String TASK_LOST = "TaskLost";
  public static final String TARGET_POD_CHANGED = "TargetPodChanged";
  public static final String STATE_REJECTED = "StateRejected";
  public static final String TRANSFER_FAILED = "TransferFailed";
  public static final String PEER_FAILED = "PeerFailed";
  public static final String NODE_LOST = "NodeLost";

  private Reasons() {}
}
