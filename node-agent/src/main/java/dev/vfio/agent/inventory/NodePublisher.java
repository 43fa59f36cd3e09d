package dev.vfio.agent.inventory;

import dev.vfio.agent.metrics.AgentMetrics;
import dev.vfio.agent.pods.HeldDevice;
import dev.vfio.agent.pods.NodePods;
import dev.vfio.agent.pods.PodDeviceResolver;
import dev.vfio.agent.pods.PodRef;
import dev.vfio.api.v1alpha1.Condition;
import dev.vfio.api.v1alpha1.Conditions;
import dev.vfio.api.v1alpha1.NodeDevice;
import dev.vfio.api.v1alpha1.PodReference;
import dev.vfio.api.v1alpha1.SetAsideJournalEntry;
import dev.vfio.api.v1alpha1.StorageClaimStatus;
import dev.vfio.api.v1alpha1.VfioNode;
import dev.vfio.api.v1alpha1.VfioNodeStatus;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.net.HttpURLConnection;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes this node's {@link VfioNode}: the device inventory with the pod holding each device,
 * the storage claims with their free space, and the heartbeat the operator checks before it sends
 * work here. The agent is the only writer of this status.
 */
public final class NodePublisher {
  private static final Logger LOG = LoggerFactory.getLogger(NodePublisher.class);
  private final KubernetesClient client;
  private final NodePods pods;
  private final String nodeName;
  private final String backend;
  private final String agentVersion;
  private final String kernelRelease;
  private final DeviceInventory inventory;
  private final PodDeviceResolver resolver;
  private final Supplier<List<StorageClaimStatus>> storage;
  private final Supplier<List<SetAsideJournalEntry>> setAside;
  private final Clock clock;
  private final AgentMetrics metrics;
  private List<Condition> conditions = List.of();
  private volatile boolean lastReportSucceeded;

  public NodePublisher(
      KubernetesClient client,
      NodePods pods,
      String nodeName,
      String backend,
      String agentVersion,
      String kernelRelease,
      DeviceInventory inventory,
      PodDeviceResolver resolver,
      Supplier<List<StorageClaimStatus>> storage,
      Supplier<List<SetAsideJournalEntry>> setAside,
      Clock clock,
      AgentMetrics metrics) {
    this.metrics = metrics;
    this.client = client;
    this.pods = pods;
    this.nodeName = nodeName;
    this.backend = backend;
    this.agentVersion = agentVersion;
    this.kernelRelease = kernelRelease;
    this.inventory = inventory;
    this.resolver = resolver;
    this.storage = storage;
    this.setAside = setAside;
    this.clock = clock;
  }

  /**
   * Builds the status from what the node says now and writes it. Never throws: a heartbeat is
   * retried on the next tick.
   */
  public synchronized void publish() {
    Instant now = clock.instant();
    VfioNodeStatus status = new VfioNodeStatus();
    status.setAgentVersion(agentVersion);
    status.setBackend(backend);
    status.setKernelRelease(kernelRelease);
    status.setHeartbeatTime(now.toString());
    status.setSetAsideJournalEntries(setAside.get());
    Condition ready;
    try {
      Map<String, PodReference> holders = holders();
      List<NodeDevice> devices = new ArrayList<>();
      List<InventoryDevice> found = inventory.devices();
      metrics.inventory(found);
      for (InventoryDevice device : found) {
        devices.add(toNodeDevice(device, holders.get(device.identity().address())));
      }
      status.setDevices(devices);
      status.setDeviceCount(devices.size());
      status.setStorage(storage.get());
      ready =
          new Condition(
              Conditions.READY,
              Condition.TRUE,
              "AgentReady",
              "agent running with the " + backend + " backend");
    } catch (IOException | RuntimeException e) {
      LOG.warn("inventory failed: {}", e.toString());
      ready =
          new Condition(
              Conditions.READY,
              Condition.FALSE,
              "InventoryFailed",
              "the agent cannot read the node's devices: " + e.getMessage());
    }
    conditions = Conditions.with(conditions, ready, 0, now);
    status.setConditions(conditions);
    try {
      write(status);
      lastReportSucceeded = Condition.TRUE.equals(ready.getStatus());
    } catch (KubernetesClientException e) {
      lastReportSucceeded = false;
      LOG.warn("could not publish VfioNode {}: {}", nodeName, e.getMessage());
    }
  }

  /**
   * Whether the last report reached the API server and said Ready: what the readiness probe asks.
   */
  public boolean lastReportSucceeded() {
    return lastReportSucceeded;
  }

  /**
   * Marks the node not ready as the agent stops, so the operator does not wait for its heartbeat to
   * age.
   */
  public synchronized void publishStopping() {
    Instant now = clock.instant();
    conditions =
        Conditions.with(
            conditions,
            new Condition(
                Conditions.READY, Condition.FALSE, "AgentStopped", "the agent is shutting down"),
            0,
            now);
    try {
      client
          .resource(thisNode())
          .subresource("status")
          .patch(
              PatchContext.of(PatchType.JSON),
              Serialization.asJson(
                  List.of(Map.of("op", "add", "path", "/status/conditions", "value", conditions))));
    } catch (KubernetesClientException e) {
      LOG.warn("could not mark VfioNode {} stopping: {}", nodeName, e.getMessage());
    }
  }

  private Map<String, PodReference> holders() throws IOException {
    Map<String, PodReference> holders = new HashMap<>();
    for (Pod pod : pods.all()) {
      PodRef ref = PodRef.of(pod);
      List<HeldDevice> devices;
      try {
        devices = resolver.resolve(ref);
      } catch (IOException e) {
        // One pod the agent cannot read must not hide every other pod's devices.
        LOG.warn("could not resolve the devices of pod {}: {}", ref, e.getMessage());
        continue;
      }
      for (HeldDevice held : devices) {
        PodReference reference = new PodReference();
        reference.setNamespace(ref.namespace());
        reference.setName(ref.name());
        reference.setUid(ref.uid());
        holders.put(held.address(), reference);
      }
    }
    return holders;
  }

  private static NodeDevice toNodeDevice(InventoryDevice device, PodReference holder) {
    NodeDevice node = new NodeDevice();
    node.setAddress(device.identity().address());
    node.setDriver(device.identity().driver());
    node.setVendorId(device.identity().vendorId());
    node.setDeviceId(device.identity().deviceId());
    node.setIommuGroup(device.identity().iommuGroup());
    node.setMigrationFlags(device.flags().names());
    node.setMigrationState(device.state() == null ? null : device.state().name());
    node.setStateSizeBytes(device.stateBytes());
    node.setFingerprint(device.fingerprint());
    node.setHolder(holder);
    if (device.protocol() != null) {
      node.setMigrationProtocol(device.protocol().name());
      node.setNotMigratableReason(device.protocol().notMigratableReason().orElse(null));
    }
    return node;
  }

  /**
   * One request per heartbeat once the VfioNode exists: the patch goes straight to it (by name, the
   * client would read it first), and it is created only when the patch finds none.
   */
  private void write(VfioNodeStatus status) {
    // The whole status is replaced: a full inventory, not a merge with the last one.
    String patch =
        Serialization.asJson(List.of(Map.of("op", "add", "path", "/status", "value", status)));
    try {
      client
          .resource(thisNode())
          .subresource("status")
          .patch(PatchContext.of(PatchType.JSON), patch);
    } catch (KubernetesClientException e) {
      if (e.getCode() != HttpURLConnection.HTTP_NOT_FOUND) {
        throw e;
      }
      VfioNode node = thisNode();
      node.getMetadata().setLabels(Map.of("app.kubernetes.io/managed-by", "vfio-node-agent"));
      try {
        client.resource(node).create();
      } catch (KubernetesClientException created) {
        if (created.getCode() != HttpURLConnection.HTTP_CONFLICT) {
          throw created;
        }
      }
      client
          .resource(thisNode())
          .subresource("status")
          .patch(PatchContext.of(PatchType.JSON), patch);
    }
  }

  /** This node's VfioNode as far as a request needs to address it. */
  private VfioNode thisNode() {
    VfioNode node = new VfioNode();
    node.setMetadata(new ObjectMetaBuilder().withName(nodeName).build());
    return node;
  }
}
