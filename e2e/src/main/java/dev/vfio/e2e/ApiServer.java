package dev.vfio.e2e;

import io.fabric8.kubeapitest.KubeAPIServer;
import io.fabric8.kubeapitest.KubeAPIServerConfigBuilder;
import io.fabric8.kubeapitest.KubeAPITestException;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * A real {@code kube-apiserver} with its {@code etcd}, started through Fabric8's kube-api-test from
 * the binaries {@code apiserver-testbed/build.sh} builds from the upstream Go modules (or that a
 * user put in the same envtest layout). It authorizes with RBAC, issues ServiceAccount tokens,
 * enforces {@code OwnerReferencesPermissionEnforcement}, and writes an audit log from which {@link
 * ApiRequestCounts} counts each component's requests. Beside it runs the garbage collector of
 * {@code kube-controller-manager}, which deletes objects whose owner is gone, and its ClusterRole
 * aggregation, which fills the built-in {@code view}, {@code edit} and {@code admin} roles from the
 * chart's aggregated roles, as in every cluster (and no other controller).
 *
 * <p>kube-api-test gives its own client {@code system:masters}; that client is the harness's (it
 * plays the user, the scheduler and the kubelet). The components get ServiceAccount tokens from
 * {@link ChartRoles} instead.
 */
public final class ApiServer implements AutoCloseable {
  private static final String AUDIT_POLICY =
      """
      apiVersion: audit.k8s.io/v1
      kind: Policy
      omitStages: [RequestReceived]
      rules:
        - level: Metadata
      """;

  private final KubeAPIServer server;
  private final Process controllerManager;
  private final Path kubeconfig;
  private final String url;
  private final Path auditLog;
  private final Path certificateAuthority;

  private ApiServer(
      KubeAPIServer server,
      Process controllerManager,
      Path kubeconfig,
      Path auditLog,
      Path certificateAuthority)
      throws IOException {
    this.server = server;
    this.url =
        Config.fromKubeconfig(Files.readString(kubeconfig)).getMasterUrl().replaceAll("/$", "");
    this.controllerManager = controllerManager;
    this.kubeconfig = kubeconfig;
    this.auditLog = auditLog;
    this.certificateAuthority = certificateAuthority;
  }

  /**
   * Builds the binaries if they are missing, starts etcd and the API server, and writes a
   * kubeconfig for its administrator to {@code workDirectory/kubeconfig}.
   */
  public static ApiServer start(SourceTree source, Path workDirectory) throws IOException {
    String version = source.kubernetesVersion();
    Path binaries = KubernetesBinaries.ensure(source, version);
    Path policy = workDirectory.resolve("audit-policy.yaml");
    Files.writeString(policy, AUDIT_POLICY);
    Path auditLog = workDirectory.resolve("logs").resolve("apiserver-audit.log");
    Files.createDirectories(auditLog.getParent());
    KubeAPIServer server =
        new KubeAPIServer(
            KubeAPIServerConfigBuilder.anAPIServerConfig()
                .withTestDir(binaries.getParent().getParent().toString())
                .withApiServerVersion(version)
                .withOfflineMode(true)
                // A loaded 2-core machine can take a minute before the first /readyz answers 200.
                .withStartupTimeout(180_000)
                .withApiServerFlags(
                    List.of(
                        "--audit-policy-file",
                        policy.toString(),
                        "--audit-log-path",
                        auditLog.toString(),
                        "--audit-log-format",
                        "json",
                        "--enable-admission-plugins",
                        "OwnerReferencesPermissionEnforcement"))
                .build());
    server.start();
    Path kubeconfig = workDirectory.resolve("kubeconfig");
    Files.writeString(kubeconfig, server.getKubeConfigYaml());
    Process controllerManager;
    try {
      controllerManager =
          new ProcessBuilder(
                  binaries.resolve("kube-controller-manager").toString(),
                  "--kubeconfig",
                  kubeconfig.toString(),
                  "--controllers",
                  "garbagecollector,clusterrole-aggregation",
                  "--leader-elect=false",
                  "--secure-port",
                  "0")
              .redirectErrorStream(true)
              .redirectOutput(auditLog.resolveSibling("kube-controller-manager.log").toFile())
              .start();
    } catch (IOException e) {
      server.stop();
      throw e;
    }
    Path certificateAuthority = binaries.getParent().getParent().resolve("apiserver.crt");
    return new ApiServer(server, controllerManager, kubeconfig, auditLog, certificateAuthority);
  }

  /** A client with the administrator's kubeconfig ({@code system:masters}). */
  public KubernetesClient adminClient() throws IOException {
    Config config = Config.fromKubeconfig(Files.readString(kubeconfig));
    return new KubernetesClientBuilder().withConfig(config).build();
  }

  /** {@code https://127.0.0.1:<port>} */
  public String url() {
    return url;
  }

  /** The administrator's kubeconfig, for kubectl. */
  public Path kubeconfig() {
    return kubeconfig;
  }

  /** The CA that signed the API server's certificate, for a client that verifies it. */
  public Path certificateAuthority() {
    return certificateAuthority;
  }

  public Path auditLog() {
    return auditLog;
  }

  @Override
  public void close() {
    controllerManager.destroy();
    try {
      controllerManager.waitFor();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    try {
      server.stop();
    } catch (KubeAPITestException e) {
      // kube-api-test stops and cleans up by itself when etcd or the API server dies under it,
      // then fails a second stop on the data it already removed: the cluster is down either way.
      System.err.println("API server already stopped: " + e.getMessage());
    }
  }

  /**
   * The envtest directory layout kube-api-test reads: {@code <dir>/k8s/<version>-linux-<arch>/}.
   */
  static String platform() {
    String arch = System.getProperty("os.arch").toLowerCase(Locale.ROOT);
    return "linux-"
        + (arch.equals("x86_64") || arch.equals("amd64")
            ? "amd64"
            : arch.equals("aarch64") ? "arm64" : arch);
  }
}
