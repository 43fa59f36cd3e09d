package dev.vfio.agent;

import dev.vfio.agent.blobs.BlobKeySource;
import dev.vfio.agent.blobs.BlobStore;
import dev.vfio.agent.blobs.CipherWarmUp;
import dev.vfio.agent.blobs.ClaimSpace;
import dev.vfio.agent.health.AgentEndpoints;
import dev.vfio.agent.inventory.NodePublisher;
import dev.vfio.agent.inventory.PodChanges;
import dev.vfio.agent.journal.DeviceJournal;
import dev.vfio.agent.journal.InterruptedTasks;
import dev.vfio.agent.journal.JournalQuarantine;
import dev.vfio.agent.journal.JournalReplay;
import dev.vfio.agent.metrics.AgentMetrics;
import dev.vfio.agent.pods.NodePods;
import dev.vfio.agent.sim.SimulatedBackend;
import dev.vfio.agent.tasks.DeleteBlobsOperation;
import dev.vfio.agent.tasks.LoadOperation;
import dev.vfio.agent.tasks.PodDevices;
import dev.vfio.agent.tasks.ReceiveOperation;
import dev.vfio.agent.tasks.ResumeOperation;
import dev.vfio.agent.tasks.SaveOperation;
import dev.vfio.agent.tasks.SendOperation;
import dev.vfio.agent.tasks.TargetOptIn;
import dev.vfio.agent.tasks.TaskWorker;
import dev.vfio.agent.transport.IssuedCredentials;
import dev.vfio.agent.transport.SigningRequests;
import dev.vfio.api.v1alpha1.Reason;
import dev.vfio.api.v1alpha1.SetAsideJournalEntry;
import dev.vfio.api.v1alpha1.StorageClaimStatus;
import dev.vfio.api.v1alpha1.TaskOperation;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Entry point of the node agent DaemonSet. Start order matters: first undo what a previous agent
 * process left half done (journal replay), then publish the node, then take new tasks.
 */
public final class NodeAgent implements AutoCloseable {
  static final String VERSION = "0.1.0";
  private static final Logger LOG = LoggerFactory.getLogger(NodeAgent.class);

  private final KubernetesClient client;
  private final AgentConfig config;
  private final NodeBackend backend;
  private final BlobStore blobs;
  private final DeviceJournal journal;
  private final NodePublisher publisher;
  private final TaskWorker worker;
  private final ScheduledExecutorService heartbeat;
  private final Clock clock;
  private final AgentMetrics metrics = new AgentMetrics();
  private AgentEndpoints endpoints;
  private final AtomicBoolean republishPending = new AtomicBoolean();
  private final NodePods pods;
  private final IssuedCredentials credentials;

  /**
   * How often the CA bundle is read again: a rotated CA reaches every agent within this, and the
   * previous CA stays trusted for a whole certificate life (decision 0011).
   */
  private static final Duration TRUST_REFRESH = Duration.ofSeconds(30);

  /** How long the agent waits for the operator to sign a transport certificate request. */
  private static final Duration CERTIFICATE_PATIENCE = Duration.ofSeconds(60);

  public NodeAgent(KubernetesClient client, AgentConfig config, NodeBackend backend, Clock clock)
      throws IOException {
    this.client = client;
    this.config = config;
    this.backend = backend;
    this.clock = clock;
    for (Map.Entry<String, Path> claim : config.storageClaims().entrySet()) {
      if (!Files.isDirectory(claim.getValue())) {
        throw new IllegalArgumentException(
            "storage claim "
                + claim.getKey()
                + " is not mounted at "
                + claim.getValue()
                + ": mount the claim there or fix VFIO_STORAGE_CLAIMS");
      }
    }
    this.blobs = new BlobStore(config.storageClaims());
    this.journal = new DeviceJournal(config.journalDirectory());
    String kernelRelease = System.getProperty("os.version");
    this.pods = new NodePods(client, config.nodeName());
    this.publisher =
        new NodePublisher(
            client,
            pods,
            config.nodeName(),
            backend.name(),
            VERSION,
            kernelRelease,
            backend.inventory(),
            backend.resolver(),
            this::storage,
            this::setAside,
            clock,
            metrics);
    PodDevices podDevices =
        new PodDevices(
            pods::find, new TargetOptIn(pods::fromApiServer), backend, config.nodeName());
    // Asked for at start and renewed before expiry; a migration before the first arrives waits
    // for it, up to the patience.
    SigningRequests requests =
        new SigningRequests(client, config.nodeName(), config.transportCa(), CERTIFICATE_PATIENCE);
    this.credentials = new IssuedCredentials(requests, requests::trustBundle, clock);
    BlobKeySource blobKey = BlobKeySource.file(config.blobKeyFile());
    CipherWarmUp.start();
    this.worker =
        new TaskWorker(
            client,
            config.nodeName(),
            config.agentId(),
            Map.of(
                TaskOperation.Save,
                    new SaveOperation(
                        podDevices,
                        backend,
                        blobs,
                        blobKey,
                        journal,
                        config.nodeName(),
                        kernelRelease),
                TaskOperation.Load,
                    new LoadOperation(
                        podDevices, blobs, blobKey, config.acceptUnauthenticatedBlobs(), journal),
                TaskOperation.Receive,
                    new ReceiveOperation(
                        podDevices,
                        journal,
                        credentials,
                        config.advertisedHost(),
                        config.transferIdleTimeout()),
                TaskOperation.Send,
                    new SendOperation(
                        podDevices,
                        backend,
                        journal,
                        credentials,
                        config.nodeName(),
                        kernelRelease,
                        config.transferIdleTimeout()),
                TaskOperation.Resume, new ResumeOperation(podDevices, backend.quiescer()),
                TaskOperation.DeleteBlobs, new DeleteBlobsOperation(blobs)),
            config.taskConcurrency(),
            config.taskQueue(),
            clock,
            config.progressInterval(),
            // A running task heartbeats as often as its node: the operator holds both to one grace.
            config.heartbeatInterval(),
            metrics);
    this.heartbeat =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread thread = new Thread(r, "heartbeat");
              thread.setDaemon(true);
              return thread;
            });
  }

  public void start() throws IOException, InterruptedException {
    List<JournalReplay.Replayed> replayed =
        new JournalReplay(journal, backend, blobs, worker.statusWriter(), clock).replay();
    new InterruptedTasks(client, worker.statusWriter(), config.nodeName(), config.agentId(), clock)
        .fail(replayed, Reason.AGENT_RESTARTED);
    // A pod arriving on the node changes who holds which device: report it now, not at the next
    // heartbeat.
    pods.onChange(new PodChanges(this::republishSoon));
    pods.start();
    credentials.start(TRUST_REFRESH);
    publisher.publish();
    heartbeat.scheduleWithFixedDelay(
        publisher::publish,
        config.heartbeatInterval().toMillis(),
        config.heartbeatInterval().toMillis(),
        TimeUnit.MILLISECONDS);
    worker.start();
    if (config.healthPort() >= 0) {
      endpoints =
          new AgentEndpoints(
              config.healthPort(),
              worker::watching,
              publisher::lastReportSucceeded,
              metrics::scrape);
    }
    LOG.info(
        "node agent {} started on node {} with the {} backend",
        config.agentId(),
        config.nodeName(),
        backend.name());
  }

  /**
   * Coalesces a burst of pod events into one publish, and publishes once more a little later: the
   * operator trusts an inventory only once it is clearly newer than the pod it asks about.
   */
  private void republishSoon() {
    if (republishPending.compareAndSet(false, true)) {
      heartbeat.schedule(
          () -> {
            republishPending.set(false);
            publisher.publish();
          },
          100,
          TimeUnit.MILLISECONDS);
      heartbeat.schedule(publisher::publish, 2500, TimeUnit.MILLISECONDS);
    }
  }

  private List<StorageClaimStatus> storage() {
    try {
      List<StorageClaimStatus> claims = new ArrayList<>();
      for (ClaimSpace space : blobs.space()) {
        StorageClaimStatus claim = new StorageClaimStatus();
        claim.setName(space.claim());
        claim.setFreeBytes(space.freeBytes());
        claim.setTotalBytes(space.totalBytes());
        claims.add(claim);
      }
      return claims;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * The journal entries replay set aside, for the VfioNode; null (no field) when there are none.
   */
  private List<SetAsideJournalEntry> setAside() {
    try {
      List<SetAsideJournalEntry> entries = new ArrayList<>();
      for (JournalQuarantine.SetAside setAside : journal.quarantine().list()) {
        SetAsideJournalEntry entry = new SetAsideJournalEntry();
        entry.setFile(setAside.file());
        entry.setReason(setAside.reason());
        entry.setSetAsideTime(setAside.time().toString());
        entries.add(entry);
      }
      return entries.isEmpty() ? null : entries;
    } catch (IOException e) {
      // The heartbeat matters more than this list: report it without the entries.
      LOG.warn("could not list the journal entries set aside: {}", e.getMessage());
      return null;
    }
  }

  @Override
  public void close() {
    if (endpoints != null) {
      endpoints.close();
    }
    worker.close();
    credentials.close();
    pods.close();
    heartbeat.shutdownNow();
    publisher.publishStopping();
    client.close();
  }

  public static void main(String[] args) throws IOException, InterruptedException {
    AgentConfig config = AgentConfig.fromEnvironment(System.getenv());
    NodeBackend backend =
        switch (config.backend()) {
          case "simulated" ->
              SimulatedBackend.create(config.simulatedDevices(), config.simulationDirectory());
          default -> KernelBackend.create();
        };
    NodeAgent agent =
        new NodeAgent(new KubernetesClientBuilder().build(), config, backend, Clock.systemUTC());
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  agent.close();
                  stopped.countDown();
                },
                "shutdown"));
    agent.start();
    // Every worker thread is a daemon, so that a stop never waits on a stuck device; main keeps the
    // JVM up.
    stopped.await();
  }
}
