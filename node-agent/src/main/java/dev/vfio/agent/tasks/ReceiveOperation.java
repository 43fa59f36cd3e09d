package dev.vfio.agent.tasks;

import dev.vfio.agent.blobs.BlobIntegrityException;
import dev.vfio.agent.blobs.BlobStreamReader;
import dev.vfio.agent.blobs.IncompatibleDeviceException;
import dev.vfio.agent.journal.DeviceJournal;
import dev.vfio.agent.journal.JournalEntry;
import dev.vfio.agent.pods.PodRef;
import dev.vfio.agent.transport.IncomingStream;
import dev.vfio.agent.transport.StreamListener;
import dev.vfio.agent.transport.TransportCredentials;
import dev.vfio.api.v1alpha1.DeviceMapping;
import dev.vfio.api.v1alpha1.Reasons;
import dev.vfio.api.v1alpha1.Stage;
import dev.vfio.api.v1alpha1.TaskEndpoint;
import dev.vfio.api.v1alpha1.VfioNodeTask;
import dev.vfio.api.v1alpha1.VfioNodeTaskSpec;
import java.io.IOException;
import java.net.InetAddress;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Supplier;

/**
 * {@code Receive}: the target side of a live migration. Takes the target devices to RESUMING,
 * listens for one stream per device bound to this task's token, writes each stream into its
 * device as it arrives — checking every chunk's CRC, and the SHA-256 at the end — then moves the
 * devices to RUNNING and tells the senders, which only then consider the migration done.
 */
public final class ReceiveOperation implements NodeOperation {
  private static final Duration ACCEPT_SLICE = Duration.ofMillis(500);
  private static final long DEFAULT_BUDGET = 1L << 40;

  private final PodDevices podDevices;
  private final DeviceJournal journal;
  private final Supplier<TransportCredentials> credentials;
  private final String advertisedHost;
  private final Duration idleTimeout;

  public ReceiveOperation(PodDevices podDevices, DeviceJournal journal, Supplier<TransportCredentials> credentials,
      String advertisedHost, Duration idleTimeout) {
    this.podDevices = podDevices;
    this.journal = journal;
    this.credentials = credentials;
    this.advertisedHost = advertisedHost;
    this.idleTimeout = idleTimeout;
  }

  @Override
  public void run(TaskContext context) throws TaskFailure, InterruptedException {
    VfioNodeTask task = context.task();
    VfioNodeTaskSpec spec = task.getSpec();
    PodRef pod = podDevices.currentPod(task, Reasons.TARGET_POD_CHANGED);
    List<DeviceLoad> loads = podDevices.open(pod, spec.getDevices(), (inventory, device, machine) ->
        new DeviceLoad(inventory, device, machine, context));
    Map<String, DeviceLoad> bySource = new HashMap<>();
    for (DeviceMapping mapping : spec.getDeviceMap()) {
      loads.stream().filter(l -> l.address().equals(mapping.getTarget())).findFirst()
          .ifPresent(load -> bySource.put(mapping.getSource(), load));
    }
    List<IncomingStream> streams = new ArrayList<>();
    ExecutorService lanes = Executors.newFixedThreadPool(Math.max(1, loads.size()), r -> {
      Thread thread = new Thread(r, "receive-" + task.getMetadata().getName());
      thread.setDaemon(true);
      return thread;
    });
    try (StreamListener listener = StreamListener.open(credentials.get(), InetAddress.getByName("0.0.0.0"), 0,
        spec.getToken(), spec.getByteBudget() == null ? DEFAULT_BUDGET : spec.getByteBudget(), idleTimeout)) {
      journal.record(new JournalEntry(task.getMetadata().getNamespace(), task.getMetadata().getName(),
          task.getMetadata().getUid(), pod.namespace(), pod.name(), pod.uid(), spec.getDevices(), false, null, null));
      for (DeviceLoad load : loads) {
        load.begin();
      }
      TaskEndpoint endpoint = new TaskEndpoint();
      endpoint.setHost(advertisedHost);
      endpoint.setPort(listener.port());
      context.endpoint(endpoint);
      context.stage(Stage.Receiving);
      List<Future<Void>> copies = new ArrayList<>();
      while (copies.size() < loads.size()) {
        context.checkpoint();
        IncomingStream stream;
        try {
          stream = listener.accept(ACCEPT_SLICE);
        } catch (SocketTimeoutException e) {
          continue;
        }
        streams.add(stream);
        DeviceLoad load = bySource.remove(stream.device());
        if (load == null) {
          throw new TaskFailure(Reasons.TRANSFER_FAILED, "a sender offered device " + stream.device()
              + ", which this migration does not move (or sent it twice)");
        }
        copies.add(lanes.submit(() -> {
          receive(stream, load);
          return null;
        }));
      }
      await(copies);
      context.stage(Stage.Resuming);
      for (DeviceLoad load : loads) {
        load.finish();
      }
      context.resumedAt(context.clock().instant());
      journal.remove(task.getMetadata().getUid());
      podDevices.markRestore(pod, "Succeeded");
      for (IncomingStream stream : streams) {
        stream.acknowledge();
      }
      context.succeed(loads.stream().map(DeviceLoad::result).toList(), null);
    } catch (TaskFailure failure) {
      throw DeviceLoad.rollBackAll(loads, journal, task.getMetadata().getUid(), podDevices, pod, failure);
    } catch (IOException e) {
      throw DeviceLoad.rollBackAll(loads, journal, task.getMetadata().getUid(), podDevices, pod, classify(e));
    } finally {
      lanes.shutdownNow();
      PodDevices.closeAll(streams);
      PodDevices.closeAll(loads);
    }
  }

  private static void receive(IncomingStream stream, DeviceLoad load) throws IOException, TaskFailure {
    BlobStreamReader reader = BlobStreamReader.open(stream.data(), "stream of " + stream.device());
    try {
      reader.requireCompatibleWith(load.inventory().identity());
    } catch (IncompatibleDeviceException e) {
      throw new TaskFailure(Reasons.INCOMPATIBLE_DEVICES, e.getMessage(), e);
    }
    reader.copyTo(load::accept);
  }

  private static void await(List<Future<Void>> copies) throws TaskFailure, IOException, InterruptedException {
    for (Future<Void> copy : copies) {
      try {
        copy.get();
      } catch (ExecutionException e) {
        Throwable cause = e.getCause();
        if (cause instanceof TaskFailure failure) {
          throw failure;
        }
        if (cause instanceof IOException io) {
          throw io;
        }
        throw new TaskFailure(Reasons.DEVICE_ERROR, "receiving failed: " + cause, cause);
      }
    }
  }

  static TaskFailure classify(IOException e) {
    if (e instanceof BlobIntegrityException) {
      return new TaskFailure(Reasons.TRANSFER_FAILED, "the stream from the source failed its checks: "
          + e.getMessage(), e);
    }
    if (e instanceof dev.vfio.agent.vfio.VfioException || e instanceof TaskStoppedException) {
      return SaveOperation.classify(e);
    }
    return new TaskFailure(Reasons.TRANSFER_FAILED, "the stream from the source broke: " + e.getMessage(), e);
  }
}
