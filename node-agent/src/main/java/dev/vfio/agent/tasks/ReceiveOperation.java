package dev.vfio.agent.tasks;

import dev.vfio.agent.blobs.BlobStreamReader;
import dev.vfio.agent.journal.DeviceJournal;
import dev.vfio.agent.transport.IncomingStream;
import dev.vfio.agent.transport.StreamListener;
import dev.vfio.agent.transport.TransportCredentials;
import dev.vfio.api.v1alpha1.Reason;
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
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code Receive}: the target side of a live migration. Takes the target devices to RESUMING,
 * listens for one stream per device bound to this task's token, writes each stream into its device
 * as it arrives — checking every chunk's CRC, and the SHA-256 at the end — then moves the devices
 * to STOP, where each checks and takes the state without running it, and reports {@code Loaded}.
 * There it waits for the operator's switchover: Commit runs the target; a cancel or the deadline
 * first ends the task conditionally ({@link Switchover}) and only then resets the devices.
 */
public final class ReceiveOperation implements NodeOperation {
  private static final Logger LOG = LoggerFactory.getLogger(ReceiveOperation.class);
  private static final Duration ACCEPT_SLICE = Duration.ofMillis(500);
  private static final long DEFAULT_BUDGET = 1L << 40;

  /** How long a failed receive waits for its copies to stop before it resets their devices. */
  private static final long LANES_STOP_SECONDS = 10;

  private final PodDevices podDevices;
  private final DeviceJournal journal;
  private final Supplier<TransportCredentials> credentials;
  private final String advertisedHost;
  private final Duration idleTimeout;

  public ReceiveOperation(
      PodDevices podDevices,
      DeviceJournal journal,
      Supplier<TransportCredentials> credentials,
      String advertisedHost,
      Duration idleTimeout) {
    this.podDevices = podDevices;
    this.journal = journal;
    this.credentials = credentials;
    this.advertisedHost = advertisedHost;
    this.idleTimeout = idleTimeout;
  }

  @Override
  public void run(TaskContext context) throws TaskFailure, InterruptedException {
    try (StateRestore restore =
        StateRestore.open(podDevices, journal, context, FailureClassifier.RECEIVE)) {
      receiveAll(context, restore);
      TaskFailure stop = loaded(context);
      if (stop != null && context.settle(stop) != Switchover.Outcome.COMMITTED) {
        // Ended before any Commit (or gone, when nobody can tell): the target must never run it.
        throw restore.rollBack(stop);
      }
      try {
        restore.resume();
      } catch (IOException | RuntimeException e) {
        // Committed, but the target cannot run the state: reset, it fails, and the operator
        // resumes the source, which kept it.
        throw restore.rollBack(e);
      }
      // The target runs the state: a Failed now would have the operator resume the source too.
      context.succeedUntilStored(restore.loads().stream().map(DeviceLoad::result).toList());
      try {
        restore.forget();
      } catch (IOException e) {
        // Replay finds the task Succeeded and committed: it leaves the running devices alone.
        LOG.warn("could not remove the journal entry: {}", e.getMessage());
      }
    }
  }

  /**
   * Every stream written into its device and the devices stopped with the state, or rolled back.
   */
  private void receiveAll(TaskContext context, StateRestore restore)
      throws TaskFailure, InterruptedException {
    VfioNodeTask task = context.task();
    VfioNodeTaskSpec spec = task.getSpec();
    String peer = SendOperation.peerNode(spec);
    Map<String, DeviceLoad> awaited = new HashMap<>(restore.bySource());
    List<IncomingStream> streams = new ArrayList<>();
    ExecutorService lanes =
        Executors.newFixedThreadPool(
            Math.max(1, awaited.size()),
            r -> {
              Thread thread = new Thread(r, "receive-" + task.getMetadata().getName());
              thread.setDaemon(true);
              return thread;
            });
    try (StreamListener listener =
        StreamListener.open(
            credentials.get(),
            InetAddress.getByName("0.0.0.0"),
            0,
            peer,
            spec.getToken(),
            spec.getByteBudget() == null ? DEFAULT_BUDGET : spec.getByteBudget(),
            idleTimeout)) {
      context.closeOnStop(listener);
      restore.begin();
      TaskEndpoint endpoint = new TaskEndpoint();
      endpoint.setHost(advertisedHost);
      endpoint.setPort(listener.port());
      context.endpoint(endpoint);
      context.stage(Stage.Receiving);
      List<Future<Void>> copies = new ArrayList<>();
      while (copies.size() < restore.loads().size()) {
        context.checkpoint();
        IncomingStream stream;
        try {
          stream = listener.accept(ACCEPT_SLICE);
        } catch (SocketTimeoutException e) {
          continue;
        }
        streams.add(stream);
        // A copy blocks on its stream; closing it is what ends the copy on a cancel or deadline.
        context.closeOnStop(stream);
        DeviceLoad load = awaited.remove(stream.device());
        if (load == null) {
          throw new TaskFailure(
              Reason.TRANSFER_FAILED,
              "a sender offered device "
                  + stream.device()
                  + ", which this migration does not move (or sent it twice)");
        }
        copies.add(
            lanes.submit(
                () -> {
                  receive(stream, load);
                  return null;
                }));
      }
      await(copies);
      restore.load();
    } catch (TaskFailure | IOException | RuntimeException e) {
      stop(lanes, streams);
      throw restore.rollBack(e);
    } finally {
      lanes.shutdownNow();
      PodDevices.closeAll(streams);
    }
  }

  /**
   * Reports Loaded and waits for the switchover; null once committed, else why the task stops. A
   * failed write of Loaded is such a reason, settled like the others: it may have been stored and
   * seen all the same.
   */
  private static TaskFailure loaded(TaskContext context) throws InterruptedException {
    try {
      context.stageNow(Stage.Loaded);
    } catch (RuntimeException e) {
      return FailureClassifier.RECEIVE.classify(e);
    }
    return context.awaitSwitchover();
  }

  private static void receive(IncomingStream stream, DeviceLoad load) throws IOException {
    BlobStreamReader reader = BlobStreamReader.open(stream.data(), "stream of " + stream.device());
    reader.requireCompatibleWith(load.inventory().identity());
    reader.copyTo(stream.charged(load));
  }

  private static void await(List<Future<Void>> copies)
      throws TaskFailure, IOException, InterruptedException {
    for (Future<Void> copy : copies) {
      try {
        copy.get();
      } catch (ExecutionException e) {
        Throwable cause = e.getCause();
        if (cause instanceof IOException io) {
          throw io;
        }
        if (cause instanceof RuntimeException runtime) {
          throw runtime;
        }
        throw new TaskFailure(Reason.DEVICE_ERROR, "receiving failed: " + cause, cause);
      }
    }
  }

  /**
   * Ends the copies before their devices are reset under them: a device's state machine is driven
   * by one thread at a time. Closing the streams ends a copy blocked on the network.
   */
  private static void stop(ExecutorService lanes, List<IncomingStream> streams) {
    lanes.shutdownNow();
    PodDevices.closeAll(streams);
    try {
      lanes.awaitTermination(LANES_STOP_SECONDS, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
