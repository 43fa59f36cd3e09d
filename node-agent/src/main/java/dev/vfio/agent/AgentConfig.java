package dev.vfio.agent;

import dev.vfio.api.v1alpha1.Durations;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;

/**
 * The agent's configuration, read once from the environment at start.
 *
 * @param nodeName this node ({@code NODE_NAME}, from the downward API; required)
 * @param backend {@code kernel} or {@code simulated} ({@code VFIO_BACKEND})
 * @param storageClaims claim name to mount path ({@code VFIO_STORAGE_CLAIMS}: {@code
 *     name=/path,...})
 * @param journalDirectory the crash journal, on the node's disk ({@code VFIO_JOURNAL_DIR})
 * @param simulatedDevices JSON file of simulated devices ({@code VFIO_SIM_DEVICES}, simulated
 *     backend only)
 * @param simulationDirectory where simulated devices and pods keep their state ({@code
 *     VFIO_SIM_DIR})
 * @param heartbeatInterval how often the VfioNode is republished ({@code VFIO_HEARTBEAT_INTERVAL})
 * @param progressInterval the least time between two progress or stage writes of a task ({@code
 *     VFIO_PROGRESS_INTERVAL})
 * @param taskConcurrency tasks run at once ({@code VFIO_TASK_CONCURRENCY})
 * @param taskQueue tasks taken beyond those running, waiting for a thread; more stay unclaimed,
 *     Pending with reason AgentBusy ({@code VFIO_TASK_QUEUE})
 * @param transportCa {@code <namespace>/<name>} of the ConfigMap with the certificate of the stream
 *     CA, which the operator publishes ({@code VFIO_TRANSPORT_CA})
 * @param advertisedHost the address peers reach this agent's listeners on ({@code POD_IP}, from the
 *     downward API)
 * @param transferIdleTimeout a stream that moves nothing this long is broken ({@code
 *     VFIO_TRANSFER_IDLE_TIMEOUT})
 * @param healthPort port of /healthz, /readyz and /metrics; negative to serve none ({@code
 *     VFIO_HEALTH_PORT})
 * @param blobKeyFile the operator's blob key, where the chart mounts its Secret ({@code
 *     VFIO_BLOB_KEY_FILE})
 * @param acceptUnauthenticatedBlobs whether a Load takes a blob without a seal on its CRCs alone
 *     ({@code VFIO_ACCEPT_UNAUTHENTICATED_BLOBS}, false unless set to {@code true}): blobs of
 *     format 1 and 2, saved before blobs were sealed
 * @param agentId this process, as it signs its task claims
 */
public record AgentConfig(
    String nodeName,
    String backend,
    Map<String, Path> storageClaims,
    Path journalDirectory,
    Path simulatedDevices,
    Path simulationDirectory,
    Duration heartbeatInterval,
    Duration progressInterval,
    int taskConcurrency,
    int taskQueue,
    String transportCa,
    String advertisedHost,
    Duration transferIdleTimeout,
    int healthPort,
    Path blobKeyFile,
    boolean acceptUnauthenticatedBlobs,
    String agentId) {

  public static AgentConfig fromEnvironment(Map<String, String> env) {
    String node = env.get("NODE_NAME");
    if (node == null || node.isBlank()) {
      throw new IllegalArgumentException(
          "NODE_NAME is not set: the DaemonSet passes it from the downward API (spec.nodeName)");
    }
    String backend = env.getOrDefault("VFIO_BACKEND", "kernel");
    if (!backend.equals("kernel") && !backend.equals("simulated")) {
      throw new IllegalArgumentException(
          "VFIO_BACKEND must be kernel or simulated, not " + backend);
    }
    return new AgentConfig(
        node,
        backend,
        claims(
            env.getOrDefault(
                "VFIO_STORAGE_CLAIMS",
                "vfio-snapshots=/var/lib/vfio-operator/claims/vfio-snapshots")),
        Path.of(env.getOrDefault("VFIO_JOURNAL_DIR", "/var/lib/vfio-operator/journal")),
        env.containsKey("VFIO_SIM_DEVICES") ? Path.of(env.get("VFIO_SIM_DEVICES")) : null,
        Path.of(env.getOrDefault("VFIO_SIM_DIR", "/var/lib/vfio-operator/simulation")),
        Durations.parse(env.get("VFIO_HEARTBEAT_INTERVAL"), Duration.ofSeconds(10)),
        Durations.parse(env.get("VFIO_PROGRESS_INTERVAL"), Duration.ofMillis(500)),
        Integer.parseInt(env.getOrDefault("VFIO_TASK_CONCURRENCY", "4")),
        Integer.parseInt(env.getOrDefault("VFIO_TASK_QUEUE", "16")),
        env.getOrDefault("VFIO_TRANSPORT_CA", "vfio-system/vfio-operator-transport"),
        env.getOrDefault("POD_IP", "127.0.0.1"),
        Durations.parse(env.get("VFIO_TRANSFER_IDLE_TIMEOUT"), Duration.ofSeconds(30)),
        Integer.parseInt(env.getOrDefault("VFIO_HEALTH_PORT", "8081")),
        Path.of(env.getOrDefault("VFIO_BLOB_KEY_FILE", "/var/run/vfio-operator/blob-key/blob.key")),
        Boolean.parseBoolean(env.getOrDefault("VFIO_ACCEPT_UNAUTHENTICATED_BLOBS", "false")),
        node
            + "-"
            + ProcessHandle.current().pid()
            + "-"
            + UUID.randomUUID().toString().substring(0, 8));
  }

  private static Map<String, Path> claims(String text) {
    Map<String, Path> claims = new LinkedHashMap<>();
    for (String entry : text.split(",")) {
      String[] parts = entry.trim().split("=", 2);
      if (parts.length != 2 || parts[0].isBlank() || parts[1].isBlank()) {
        throw new IllegalArgumentException(
            "VFIO_STORAGE_CLAIMS entry '" + entry + "' is not name=/path");
      }
      claims.put(parts[0].trim(), Path.of(parts[1].trim()));
    }
    return claims;
  }
}
