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
import dev.vfio.api.v1alpha1.VfioNodeTask;
import dev.vfio.api.v1alpha1.VfioNodeTaskSpec;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * {@code Send}: the source side of a live migration. Streams each device's state to the Receive
 * task's listener — PRE_COPY rounds while the workload still runs, then the pod frozen and
 * STOP_COPY to the end — and waits until the target says its devices run the state. Only then is
 * the source left stopped; any failure before that returns the source devices to RUNNING.
 */
public final class SendOperation implements NodeOperation {
  private static final Duration DEFAULT_WAIT_FOR_TARGET = Duration.ofMinutes(10);

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
    DeviceMap map = DeviceMap.of(spec).requireSources(spec.getDevices());
    PodRef pod = podDevices.currentPod(task, Reason.POD_CHANGED);
    // Where each device's receiver answers, once its stream is committed.
    Map<String, OutgoingStream> streams = new HashMap<>();
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
              streams.put(device.address(), stream);
              // Ends a write or the wait for the target's answer blocked on the peer.
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
            null);
    try (StateCapture capture =
        new StateCapture(
            backend.quiescer(), journal, context, pod, sends, entry, FailureClassifier.SEND)) {
      try {
        context.stage(Stage.Sending);
        capture.capture(spec.getPrecopy(), spec.getQuiesce());
        context.stage(Stage.Resuming);
        Duration untilDeadline =
            spec.getDeadline() == null
                ? DEFAULT_WAIT_FOR_TARGET
                : Duration.between(context.clock().instant(), Instant.parse(spec.getDeadline()));
        for (DeviceSave send : sends) {
          awaitTargetRunning(
              streams.get(send.address()),
              map.targetOf(send.address()),
              untilDeadline.isNegative() ? Duration.ofMillis(1) : untilDeadline);
        }
        // The state now runs on the target: the source stays stopped (and frozen), never to diverge
        // from it.
        for (DeviceSave send : sends) {
          send.finish(false);
        }
        capture.forget();
        context.succeed(sends.stream().map(s -> s.result(null)).toList(), null);
      } catch (TaskFailure | IOException | RuntimeException e) {
        throw capture.rollBack(e);
      }
    }
  }

  private static void awaitTargetRunning(OutgoingStream stream, String target, Duration timeout)
      throws IOException, TaskFailure {
    if (!stream.awaitAcknowledgement(timeout)) {
      throw new TaskFailure(
          Reason.PEER_FAILED,
          "the target did not confirm that device " + target + " runs the state");
    }
  }
}
