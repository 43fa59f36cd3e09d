package dev.vfio.agent.tasks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import dev.vfio.agent.blobs.BlobIntegrityException;
import dev.vfio.agent.blobs.IncompatibleDeviceException;
import dev.vfio.agent.blobs.UnknownStorageClaimException;
import dev.vfio.agent.transport.NoCredentialsException;
import dev.vfio.agent.transport.PeerIdentityException;
import dev.vfio.agent.vfio.Errno;
import dev.vfio.agent.vfio.StateRejectedException;
import dev.vfio.agent.vfio.VfioException;
import dev.vfio.api.v1alpha1.Reason;
import java.io.IOException;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

class FailureClassifierTest {
  static final String DEVICE = "0000:af:00.0";

  @ParameterizedTest
  @EnumSource(FailureClassifier.class)
  void whatADeviceOrTheStateSaysMeansTheSameInEveryOperation(FailureClassifier operation) {
    TaskFailure cancelled = new TaskFailure(Reason.CANCELLED, "cancelled by the operator");
    assertSame(cancelled, operation.classify(new TaskStoppedException(cancelled)));
    assertEquals(
        Reason.STATE_REJECTED,
        operation.classify(new StateRejectedException(DEVICE, "write data_fd", 28, "")).reason());
    assertEquals(
        Reason.DEVICE_ERROR,
        operation
            .classify(new VfioException(DEVICE, "RUNNING -> STOP_COPY", Errno.EIO, ""))
            .reason());
    assertEquals(
        Reason.INCOMPATIBLE_DEVICES,
        operation.classify(new IncompatibleDeviceException("saved from another model")).reason());
    assertEquals(
        Reason.STORAGE_CLAIM_UNKNOWN,
        operation
            .classify(new UnknownStorageClaimException("elsewhere", Set.of("claim-a")))
            .reason());
    assertEquals(
        Reason.DEVICE_ERROR, operation.classify(new IllegalStateException("bug")).reason());
  }

  @ParameterizedTest
  @EnumSource(
      value = FailureClassifier.class,
      names = {"SEND", "RECEIVE"})
  void aStreamWithoutACertificateOrWithTheWrongPeerSaysSo(FailureClassifier operation) {
    assertEquals(
        Reason.TRANSFER_FAILED,
        operation
            .classify(
                new NoCredentialsException(
                    "this agent has no transport certificate: denied", new IOException("denied")))
            .reason());
    assertEquals(
        Reason.PEER_IDENTITY_MISMATCH,
        operation.classify(new PeerIdentityException("certificate of node node-b")).reason());
  }

  @ParameterizedTest(name = "{0}: {1}")
  @CsvSource({
    "SAVE, No space left on device, StorageFull",
    "SAVE, Input/output error, StorageError",
    "LOAD, Input/output error, StorageError",
    "SEND, Connection reset, TransferFailed",
    "RECEIVE, Connection reset, TransferFailed",
    "RESUME, cannot write cgroup.freeze, DeviceError",
    "DELETE_BLOBS, Directory not empty, StorageError",
  })
  void otherInputOutputFailuresMeanWhatTheOperationDoes(
      FailureClassifier operation, String message, String reason) {
    assertEquals(reason, operation.classify(new IOException(message)).reason().wire());
  }

  @ParameterizedTest(name = "{0}: {1}")
  @CsvSource({"LOAD, BlobCorrupt", "RECEIVE, TransferFailed"})
  void aBlobThatFailsItsChecksIsTheBlobsFaultOrTheStreams(
      FailureClassifier operation, String reason) {
    assertEquals(
        reason,
        operation.classify(new BlobIntegrityException("blob", "CRC mismatch")).reason().wire());
  }
}
