package dev.vfio.operator;

import dev.vfio.operator.blobkey.BlobKeyRotation;
import dev.vfio.operator.blobkey.BlobKeySecret;
import dev.vfio.operator.config.OperatorConfig;
import dev.vfio.operator.health.HealthServer;
import dev.vfio.operator.labels.NodeLabelReconciler;
import dev.vfio.operator.metrics.OperatorMetrics;
import dev.vfio.operator.migration.VfioMigrationReconciler;
import dev.vfio.operator.preflight.OperationsInFlight;
import dev.vfio.operator.preflight.PodOperations;
import dev.vfio.operator.schedule.VfioSnapshotScheduleReconciler;
import dev.vfio.operator.snapshot.VfioSnapshotReconciler;
import dev.vfio.operator.transport.TransportCa;
import dev.vfio.operator.transport.TransportSigner;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.javaoperatorsdk.operator.Operator;
import io.javaoperatorsdk.operator.api.config.LeaderElectionConfiguration;
import io.javaoperatorsdk.operator.monitoring.micrometer.MicrometerMetrics;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Entry point of the operator Deployment: reads its configuration and wires the reconcilers. */
public final class VfioOperator implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(VfioOperator.class);
  private final Operator operator;
  private final HealthServer health;
  private final KubernetesClient client;
  private final OperatorConfig config;
  private final Clock clock;

  /**
   * How often the transport CA Secret is read again: a CA replaced by an admin or by cert-manager
   * reaches the agents' bundle within this.
   */
  private static final Duration TRANSPORT_CA_CHECK = Duration.ofSeconds(30);

  private TransportSigner signer;
  private TransportCa transportCa;
  private BlobKeyRotation blobKeyRotation;

  public VfioOperator(KubernetesClient client, OperatorConfig config, Clock clock)
      throws IOException {
    this.client = client;
    this.config = config;
    this.clock = clock;
    OperatorMetrics metrics = new OperatorMetrics();
    operator =
        new Operator(
            overrider -> {
              overrider
                  .withKubernetesClient(client)
                  // Per-resource meters would grow with every snapshot ever made; aggregate ones do
                  // not.
                  .withMetrics(MicrometerMetrics.withoutPerResourceMetrics(metrics.registry()))
                  // Status is written with JSON patches (status.StatusWriter), finalizers by JOSDK
                  // with
                  // JSON patches too; see docs/decisions/0001-status-patches.md.
                  .withUseSSAToPatchPrimaryResource(false)
                  .withCloseClientOnStop(true);
              if (!config.leaderElectionNamespace().isEmpty()) {
                overrider.withLeaderElectionConfiguration(
                    new LeaderElectionConfiguration(
                        "vfio-operator", config.leaderElectionNamespace()));
              }
            });
    // One for both kinds: a snapshot and a migration of one pod wait for each other too.
    PodOperations podOperations = new PodOperations(new OperationsInFlight(client));
    operator.register(new VfioSnapshotReconciler(client, config, clock, metrics, podOperations));
    operator.register(new VfioMigrationReconciler(client, config, clock, metrics, podOperations));
    operator.register(new VfioSnapshotScheduleReconciler(client, clock));
    operator.register(new NodeLabelReconciler(client));
    health =
        config.healthPort() < 0
            ? null
            : new HealthServer(
                config.healthPort(),
                Map.of(
                    "/startup", () -> operator.getRuntimeInfo().isStarted(),
                    "/healthz", () -> operator.getRuntimeInfo().allEventSourcesAreHealthy(),
                    "/readyz",
                        () ->
                            operator.getRuntimeInfo().isStarted()
                                && operator.getRuntimeInfo().allEventSourcesAreHealthy()),
                metrics::scrape);
  }

  public void start() {
    // Agents ask for their stream certificates as they start; the CA must be there to sign them.
    String[] secret = config.transportSecret().split("/", 2);
    transportCa =
        new TransportCa(
            client,
            secret[0],
            secret[1],
            config.transportCertificateValidity(),
            config.transportCaExternal(),
            clock);
    if (!config.transportCaExternal()) {
      transportCa.ensure();
    }
    transportCa.watch(TRANSPORT_CA_CHECK);
    signer =
        TransportSigner.start(
            client,
            transportCa::current,
            config.agentServiceAccount(),
            config.transportCertificateValidity(),
            clock);
    // Agents mount the blob key; a Save or Load before it exists fails BlobKeyMissing.
    new BlobKeySecret(client, config.blobKeySecret()).ensure();
    blobKeyRotation = BlobKeyRotation.start(client, config.blobKeySecret());
    operator.start();
    LOG.info("vfio-operator started");
  }

  @Override
  public void close() {
    operator.stop();
    if (signer != null) {
      signer.close();
    }
    if (transportCa != null) {
      transportCa.close();
    }
    if (blobKeyRotation != null) {
      blobKeyRotation.close();
    }
    if (health != null) {
      health.close();
    }
  }

  public static void main(String[] args) throws IOException {
    OperatorConfig config = OperatorConfig.fromEnvironment(System.getenv());
    VfioOperator vfioOperator =
        new VfioOperator(new KubernetesClientBuilder().build(), config, Clock.systemUTC());
    Runtime.getRuntime().addShutdownHook(new Thread(vfioOperator::close, "shutdown"));
    vfioOperator.start();
  }
}
