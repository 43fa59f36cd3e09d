package dev.vfio.agent.tasks;

import dev.vfio.agent.NodeBackend;
import dev.vfio.agent.blobs.BlobHeader;
import dev.vfio.agent.blobs.BlobStreamWriter;
import dev.vfio.agent.blobs.BlobCompression;
import dev.vfio.agent.blobs.BlobSummary;
import dev.vfio.agent.journal.DeviceJournal;
import dev.vfio.agent.journal.JournalEntry;
import dev.vfio.agent.pods.PodRef;
import dev.vfio.agent.transport.OutgoingStream;
import dev.vfio.agent.transport.StreamSender;
import dev.vfio.agent.transport.TransportCredentials;
import dev.vfio.api.v1alpha1.DeviceMapping;
import dev.vfio.api.v1alpha1.Reasons;
import dev.vfio.api.v1alpha1.Stage;
import dev.vfio.api.v1alpha1.VfioNodeTask;
import dev.vfio.api.v1alpha1.VfioNodeTaskSpec;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import java.util.stream.Collectors;

/**
 * {@code Send}: the source side of a live migration. Streams each device's state to the Receive
 * task's listener — PRE_COPY rounds while the workload still runs, then the pod frozen and
 * STOP_COPY to the end — and waits until the target says its devices run the state. Only then is
 * the source left stopped; any failure before that returns the source devices to RUNNING.
 */
public final class SendOperation implements NodeOperation {
  private final PodDevices podDevices;
  private final NodeBackend backend;
  private final DeviceJournal journal;
  private final Supplier<TransportCredentials> credentials;
  private final String nodeName;
  private final String kernelRelease;
  private final Duration idleTimeout;

  public SendOperation(PodDevices podDevices, NodeBackend backend, DeviceJournal journal,
      Supplier<TransportCredentials> credentials, String nodeName, String kernelRelease, Duration idleTimeout) {
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
    PodRef pod = podDevices.currentPod(task, Reasons.POD_CHANGED);
    Map<String, String> targetOf = spec.getDeviceMap().stream()
        .collect(Collectors.toMap(DeviceMapping::getSource, DeviceMapping::getTarget));
    List<DeviceSave> sends = podDevices.open(pod, spec.getDevices(), (inventory, device, machine) -> {
      OutgoingStream stream = StreamSender.connect(credentials.get(), spec.getEndpoint().getHost(),
          spec.getEndpoint().getPort(), spec.getToken(), device.address(), idleTimeout);
      BlobStreamWriter writer = BlobStreamWriter.start(stream, new BlobHeader(BlobHeader.FORMAT_VERSION,
          inventory.identity(), machine.flags().names(), kernelRelease, nodeName, pod.namespace(), pod.name(),
          spec.getParent() == null ? task.getMetadata().getName() : spec.getParent().replace('/', '.'),
          context.clock().instant().toString(), BlobCompression.NONE));
      return new DeviceSave(inventory, device, machine, new PeerOutput(stream, writer, targetOf.get(device.address())), context);
    });
    JournalEntry entry = new JournalEntry(task.getMetadata().getNamespace(), task.getMetadata().getName(),
        task.getMetadata().getUid(), pod.namespace(), pod.name(), pod.uid(), spec.getDevices(), false, null, null);
    try (StateCapture capture = new StateCapture(backend.quiescer(), journal, context, pod, sends, entry,
        SendOperation::classify)) {
      try {
        context.stage(Stage.Sending);
        capture.capture(spec.getPrecopy(), spec.getQuiesce());
        context.stage(Stage.Resuming);
        Duration untilDeadline = spec.getDeadline() == null ? Duration.ofMinutes(10)
            : Duration.between(context.clock().instant(), java.time.Instant.parse(spec.getDeadline()));
        for (DeviceSave send : sends) {
          ((PeerOutput) send.output()).awaitTargetRunning(untilDeadline.isNegative() ? Duration.ofMillis(1) : untilDeadline);
        }
        // The state now runs on the target: the source stays stopped (and frozen), never to diverge from it.
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

  /** A broken stream is the transfer's fault; the device's own errors keep their cause. */
  static TaskFailure classify(IOException e) {
    if (e instanceof TaskStoppedException || e instanceof dev.vfio.agent.vfio.VfioException) {
      return SaveOperation.classify(e);
    }
    return new TaskFailure(Reasons.TRANSFER_FAILED, "the stream to the target broke: " + e.getMessage(), e);
  }

  /** One device's stream to the peer. */
  private static final class PeerOutput implements StateOutput {
    private final OutgoingStream stream;
    private final BlobStreamWriter writer;
    private final String target;

    PeerOutput(OutgoingStream stream, BlobStreamWriter writer, String target) {
      this.stream = stream;
      this.writer = writer;
      this.target = target;
    }

    @Override
    public void write(ByteBuffer chunk) throws IOException {
      writer.write(chunk);
    }

    @Override
    public ByteBuffer lend() throws IOException {
      return writer.lend();
    }

    @Override
    public void lentFilled(ByteBuffer lent, int bytes) throws IOException {
      writer.lentFilled(lent);
    }

    @Override
    public BlobSummary commit() throws IOException {
      return writer.finish();
    }

    void awaitTargetRunning(Duration timeout) throws IOException, TaskFailure {
      if (!stream.awaitAcknowledgement(timeout)) {
        throw new TaskFailure(Reasons.PEER_FAILED, "the target did not confirm that device " + target
            + " runs the state");
      }
    }

    @Override
    public void abort() throws IOException {
      // Closing mid-stream is what the receiver sees as a truncated state, which it refuses.
      stream.close();
    }

    @Override
    public void close() throws IOException {
      stream.close();
    }

    @Override
    public String toString() {
      return "stream to " + target;
    }
  }
}
