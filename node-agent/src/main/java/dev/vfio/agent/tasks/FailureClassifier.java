package dev.vfio.agent.tasks;

import dev.vfio.agent.blobs.BlobIntegrityException;
import dev.vfio.agent.blobs.BlobUnauthenticatedException;
import dev.vfio.agent.blobs.IncompatibleDeviceException;
import dev.vfio.agent.blobs.UnknownStorageClaimException;
import dev.vfio.agent.transport.NoCredentialsException;
import dev.vfio.agent.transport.PeerIdentityException;
import dev.vfio.agent.vfio.StateRejectedException;
import dev.vfio.agent.vfio.VfioException;
import dev.vfio.api.v1alpha1.Reason;
import java.io.IOException;

/**
 * What a failure means for the user: the reason a task fails with, from the exception that stopped
 * it and the operation it stopped. The one place that knows that a device refusing its state is the
 * state's fault (StateRejected, whether on a {@code write()} or on leaving RESUMING), that a full
 * claim is the user's to free (StorageFull) and that a broken stream is the network's
 * (TransferFailed). An I/O failure that is neither the device's nor the state's means something
 * different for each operation; anything else is the agent's own failure.
 */
enum FailureClassifier {
  /** State out of devices into blobs on a storage claim. */
  SAVE,
  /** State out of devices to the peer agent. */
  SEND,
  /** State out of verified blobs into devices. */
  LOAD,
  /** State from the peer agent into devices. */
  RECEIVE,
  /** Devices back to RUNNING and the pod thawed; no state moves. */
  RESUME,
  /** A snapshot's blobs removed from their claim. */
  DELETE_BLOBS;

  /**
   * As {@link #classify(Exception)}, for a task that may have been told to stop: then a broken
   * stream or socket is what the stop closed ({@link TaskContext#closeOnStop}), and the task ends
   * for the stop's reason, Cancelled or Timeout, not as a transfer failure.
   */
  TaskFailure classify(Exception e, TaskFailure stop) {
    if (stop != null
        && e instanceof IOException
        && !(e instanceof TaskStoppedException)
        && !(e instanceof VfioException)) {
      return new TaskFailure(stop.reason(), stop.getMessage(), e);
    }
    return classify(e);
  }

  TaskFailure classify(Exception e) {
    if (e instanceof TaskFailure failure) {
      return failure;
    }
    if (e instanceof TaskStoppedException stopped) {
      return stopped.failure();
    }
    if (e instanceof StateRejectedException rejected) {
      return new TaskFailure(
          Reason.STATE_REJECTED,
          "device " + rejected.device() + " rejected the state it was given: " + e.getMessage(),
          e);
    }
    if (e instanceof VfioException) {
      return new TaskFailure(Reason.DEVICE_ERROR, e.getMessage(), e);
    }
    if (e instanceof IncompatibleDeviceException) {
      return new TaskFailure(Reason.INCOMPATIBLE_DEVICES, e.getMessage(), e);
    }
    if (e instanceof UnknownStorageClaimException) {
      return new TaskFailure(Reason.STORAGE_CLAIM_UNKNOWN, e.getMessage(), e);
    }
    if (e instanceof NoCredentialsException) {
      return new TaskFailure(Reason.TRANSFER_FAILED, e.getMessage(), e);
    }
    if (e instanceof PeerIdentityException) {
      return new TaskFailure(Reason.PEER_IDENTITY_MISMATCH, e.getMessage(), e);
    }
    if (e instanceof IOException io) {
      return inputOutput(io);
    }
    return new TaskFailure(Reason.DEVICE_ERROR, "the agent failed unexpectedly: " + e, e);
  }

  private TaskFailure inputOutput(IOException e) {
    String message = String.valueOf(e.getMessage());
    return switch (this) {
      case SAVE, LOAD -> {
        if (message.contains("No space left")) {
          yield new TaskFailure(
              Reason.STORAGE_FULL,
              "the storage claim is full: "
                  + message
                  + ": free space on the claim or use a larger one",
              e);
        }
        if (this == LOAD && e instanceof BlobUnauthenticatedException) {
          yield new TaskFailure(
              Reason.BLOB_UNAUTHENTICATED,
              "the blob is not proven to be the operator's: " + message,
              e);
        }
        if (this == LOAD && e instanceof BlobIntegrityException) {
          yield new TaskFailure(
              Reason.BLOB_CORRUPT, "the blob failed its integrity check: " + message, e);
        }
        yield new TaskFailure(
            Reason.STORAGE_ERROR,
            (this == SAVE ? "writing" : "reading") + " the blob failed: " + message,
            e);
      }
      case SEND ->
          new TaskFailure(Reason.TRANSFER_FAILED, "the stream to the target failed: " + message, e);
      case RECEIVE ->
          new TaskFailure(
              Reason.TRANSFER_FAILED,
              e instanceof BlobIntegrityException
                  ? "the stream from the source failed its checks: " + message
                  : "the stream from the source failed: " + message,
              e);
      case RESUME -> new TaskFailure(Reason.DEVICE_ERROR, message, e);
      case DELETE_BLOBS -> new TaskFailure(Reason.STORAGE_ERROR, message, e);
    };
  }
}
