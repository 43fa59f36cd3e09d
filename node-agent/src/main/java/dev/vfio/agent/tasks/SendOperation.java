package dev.vfio.agent.tasks;

import dev.vfio.agent.NodeBackend;
import dev.vfio.agent.blobs.BlobCompression;
import dev.vfio.agent.blobs.BlobHeader;
import dev.vfio.agent.blobs.BlobStreamWriter;
import dev.vfio.agent.journal.DeviceJournal;
import dev.vfio.agent.journal.JournalEntry;
import dev.vfio.agent.pods.PodRef;
import dev.vfio.agent.transport.OutgoingStream;
import dev.vfio.agent.transport.StreamSender;
import dev.vfio.agent.transport.TransportCredentials;
import dev.vfio.api.v1alpha1.Reason;
import dev.vfio.api.v1alpha1.Stage;
import dev.vfio.api.v1alpha1.TaskOperation;
import dev.vfio.api.v1alpha1.VfioNodeTask;
import dev.vfio.api.v1alpha1.VfioNodeTaskSpec;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code Send}: the source side of a live migration. Streams each device's state to the Receive
 * task's listener — PRE_COPY rounds while the workload still runs, then the pod frozen and
 * STOP_COPY to the end — stops the devices, reports {@code Sent} and waits, the pod still frozen,
 * for the operator's switchover. Commit leaves the source stopped; a cancel or the deadline first
 * ends the task conditionally ({@link Switchover}) and only then resumes the source. Nothing the
 * target or the network does resumes the source once Sent is reported; any failure before that
 * does.
 */
public final class SendOperation implements NodeOperation {
  private static final Logger LOG = LoggerFactory.getLogger(SendOperation.class);

  private final PodDevices podDevices;
  private final NodeBackend backend;
  private final DeviceJournal journal;
  private final Supplier<TransportCredentials> credentials;
  private final String nodeName;
  private final String kernelRelease;
  private final Duration idleTimeout;

  public SendOperation(
      PodDevices podDevices,
      NodeBackend backend,
      DeviceJournal journal,
      Supplier<TransportCredentials> credentials,
      String nodeName,
      String kernelRelease,
      Duration idleTimeout) {
    this.podDevices = podDevices;
    this.backend = backend;
    this.journal = journal;
    this.credentials = credentials;
    this.nodeName = nodeName;
    this.kernelRelease = kernelRelease;
    this.idleTimeout = idleTimeout;
  }

  @Override
  public void run(TaskContext context) throws TaskFailure, InterruptedException {
    VfioNodeTask task = context.task();
    VfioNodeTaskSpec spec = task.getSpec();
    DeviceMap.of(spec).requireSources(spec.getDevices());
    String peer = peerNode(spec);
    PodRef pod = podDevices.currentPod(task, Reason.POD_CHANGED);
    List<OutgoingStream> streams = new ArrayList<>();
    List<DeviceSave> sends =
        podDevices.open(
            pod,
            spec.getDevices(),
            FailureClassifier.SEND,
            (inventory, device, machine) -> {
              OutgoingStream stream =
                  StreamSender.connect(
                      credentials.get(),
                      spec.getEndpoint().getHost(),
                      spec.getEndpoint().getPort(),
                      peer,
                      spec.getToken(),
                      device.address(),
                      idleTimeout);
              BlobStreamWriter writer =
                  BlobStreamWriter.start(
                      stream,
                      new BlobHeader(
                          BlobHeader.FORMAT_VERSION,
                          inventory.identity(),
                          machine.flags().names(),
                          kernelRelease,
                          nodeName,
                          pod.namespace(),
                          pod.name(),
                          spec.getParent() == null
                              ? task.getMetadata().getName()
                              : spec.getParent().replace('/', '.'),
                          context.clock().instant().toString(),
                          BlobCompression.NONE));
              streams.add(stream);
              // Ends a write blocked on the peer.
              context.closeOnStop(stream);
              return new DeviceSave(inventory, device, machine, writer, context);
            });
    JournalEntry entry =
        new JournalEntry(
            task.getMetadata().getNamespace(),
            task.getMetadata().getName(),
            task.getMetadata().getUid(),
            pod.namespace(),
            pod.name(),
            pod.uid(),
            spec.getDevices(),
            false,
            null,
            null,
            TaskOperation.Send);
    try (StateCapture capture =
        new StateCapture(
            backend.quiescer(), journal, context, pod, sends, entry, FailureClassifier.SEND)) {
      try {
        context.stage(Stage.Sending);
        capture.capture(spec.getPrecopy(), spec.getQuiesce());
        for (DeviceSave send : sends) {
          send.finish(false);
        }
      } catch (TaskFailure | IOException | RuntimeException e) {
        throw capture.rollBack(e);
      } finally {
        // Every stream ends here: what went through is the receiver's, whatever happened.
        PodDevices.closeAll(streams);
      }
      TaskFailure stop = sent(context);
      if (stop != null) {
        switch (context.settle(stop)) {
          case ABORTED -> throw capture.rollBack(stop);
          case UNKNOWN ->
              // The journal entry stays: a later start of the agent finds the task gone too and
              // sets the entry aside for an admin, which lists it on the node's VfioNode.
              throw new TaskFailure(
                  stop.reason(),
                  stop.getMessage()
                      + "; the task is gone, so whether the target runs the state is unknown: the"
                      + " source stays stopped and frozen");
          case COMMITTED -> {}
        }
      }
      // Committed: the state runs on the target, or will; the source stays stopped (and frozen),
      // never to diverge from it.
      try {
        capture.forget();
      } catch (IOException e) {
        // Replay finds the task committed and keeps the source stopped.
        LOG.warn("could not remove the journal entry: {}", e.getMessage());
      }
      context.succeed(sends.stream().map(s -> s.result(null)).toList(), null);
    }
  }

  /** The node whose agent alone may receive: the CRD requires it, an older operator omits it. */
  static String peerNode(VfioNodeTaskSpec spec) throws TaskFailure {
    if (spec.getPeerNode() == null || spec.getPeerNode().isBlank()) {
      throw new TaskFailure(
          Reason.INVALID_SPEC,
          spec.getOperation()
              + " names no peerNode, so the peer's certificate cannot be checked: upgrade the"
              + " operator");
    }
    return spec.getPeerNode();
  }

  /**
   * Reports Sent and waits for the switchover; null once committed, else why the task stops. A
   * failed write of Sent is such a reason, settled like the others: it may have been stored and
   * seen all the same.
   */
  private static TaskFailure sent(TaskContext context) throws InterruptedException {
    try {
      context.stageNow(Stage.Sent);
    } catch (RuntimeException e) {
      return FailureClassifier.SEND.classify(e);
    }
    return context.awaitSwitchover();
  }
}
