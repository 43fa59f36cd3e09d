package dev.vfio.operator.config;

import dev.vfio.api.v1alpha1.Durations;
import java.time.Duration;
import java.util.Map;

/**
 * The operator's configuration, read once from the environment at start.
 *
 * @param defaultStorageClaim claim used when a snapshot names none ({@code
 *     VFIO_DEFAULT_STORAGE_CLAIM})
 * @param defaultTimeout timeout of an operation whose spec sets none ({@code VFIO_DEFAULT_TIMEOUT})
 * @param agentHeartbeatTimeout an agent whose VfioNode heartbeat is older is not ready ({@code
 *     VFIO_AGENT_HEARTBEAT_TIMEOUT})
 * @param healthPort port of /healthz and /readyz, 0 to disable ({@code VFIO_HEALTH_PORT})
 * @param leaderElectionNamespace namespace of the leader election Lease, empty to run without one
 *     ({@code VFIO_LEADER_ELECTION_NAMESPACE})
 * @param maxMigrations migrations in flight in the cluster; more wait in Pending ({@code
 *     VFIO_MAX_MIGRATIONS}, like KubeVirt's 5)
 * @param maxMigrationsPerNode migrations in flight touching one node ({@code
 *     VFIO_MAX_MIGRATIONS_PER_NODE}, like KubeVirt's 2)
 * @param maxSnapshots snapshots in flight in the cluster; more wait in Pending ({@code
 *     VFIO_MAX_SNAPSHOTS})
 * @param maxSnapshotsPerNamespace snapshots in flight in one namespace, so that one namespace
 *     cannot take every slot ({@code VFIO_MAX_SNAPSHOTS_PER_NAMESPACE})
 * @param transportSecret {@code <namespace>/<name>} of the Secret holding the stream CA's
 *     certificate and key, which only the operator reads; the ConfigMap of the same name carries
 *     the CA certificate to the agents ({@code VFIO_TRANSPORT_SECRET})
 * @param agentServiceAccount {@code <namespace>/<name>} of the node agents' ServiceAccount, the
 *     only requester whose transport certificate requests are signed; agent pods run in that
 *     namespace ({@code VFIO_AGENT_SERVICE_ACCOUNT})
 * @param transportCertificateValidity how long an agent's transport certificate is valid; agents
 *     renew at two thirds of it ({@code VFIO_TRANSPORT_CERT_VALIDITY})
 * @param transportCaExternal whether another issuer (cert-manager) writes the transport CA Secret:
 *     the operator then never writes it, waits for it and follows its changes ({@code
 *     VFIO_TRANSPORT_CA_EXTERNAL})
 * @param blobKeySecret {@code <namespace>/<name>} of the Secret holding the key that seals blobs
 *     ({@code VFIO_BLOB_KEY_SECRET})
 */
public record OperatorConfig(
    String defaultStorageClaim,
    Duration defaultTimeout,
    Duration agentHeartbeatTimeout,
    int healthPort,
    String leaderElectionNamespace,
    int maxMigrations,
    int maxMigrationsPerNode,
    int maxSnapshots,
    int maxSnapshotsPerNamespace,
    String transportSecret,
    String blobKeySecret,
    String agentServiceAccount,
    Duration transportCertificateValidity,
    boolean transportCaExternal) {

  public static OperatorConfig fromEnvironment(Map<String, String> env) {
    return new OperatorConfig(
        env.getOrDefault("VFIO_DEFAULT_STORAGE_CLAIM", "vfio-snapshots"),
        Durations.parse(env.get("VFIO_DEFAULT_TIMEOUT"), Duration.ofMinutes(10)),
        Durations.parse(env.get("VFIO_AGENT_HEARTBEAT_TIMEOUT"), Duration.ofSeconds(60)),
        Integer.parseInt(env.getOrDefault("VFIO_HEALTH_PORT", "8080")),
        env.getOrDefault("VFIO_LEADER_ELECTION_NAMESPACE", ""),
        Integer.parseInt(env.getOrDefault("VFIO_MAX_MIGRATIONS", "5")),
        Integer.parseInt(env.getOrDefault("VFIO_MAX_MIGRATIONS_PER_NODE", "2")),
        Integer.parseInt(env.getOrDefault("VFIO_MAX_SNAPSHOTS", "10")),
        Integer.parseInt(env.getOrDefault("VFIO_MAX_SNAPSHOTS_PER_NAMESPACE", "4")),
        env.getOrDefault("VFIO_TRANSPORT_SECRET", "vfio-system/vfio-operator-transport"),
        env.getOrDefault("VFIO_BLOB_KEY_SECRET", "vfio-system/vfio-operator-blob-key"),
        env.getOrDefault("VFIO_AGENT_SERVICE_ACCOUNT", "vfio-system/vfio-operator-agent"),
        Durations.parse(env.get("VFIO_TRANSPORT_CERT_VALIDITY"), Duration.ofHours(24)),
        Boolean.parseBoolean(env.getOrDefault("VFIO_TRANSPORT_CA_EXTERNAL", "false")));
  }
}
