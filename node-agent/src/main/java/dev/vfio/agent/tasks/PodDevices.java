package dev.vfio.agent.tasks;

import dev.vfio.agent.NodeBackend;
import dev.vfio.agent.inventory.InventoryDevice;
import dev.vfio.agent.pods.HeldDevice;
import dev.vfio.agent.pods.NodePods;
import dev.vfio.agent.pods.PodRef;
import dev.vfio.agent.vfio.MigrationDevice;
import dev.vfio.agent.vfio.MigrationStateMachine;
import dev.vfio.agent.vfio.VfioException;
import dev.vfio.api.v1alpha1.Reasons;
import dev.vfio.api.v1alpha1.VfioNodeTask;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How every operation reaches the devices of its pod: the pod must still be the one the operator
 * checked (same UID), must still hold each device, and each device is opened and probed before
 * any is moved — so a task that cannot run fails having touched nothing.
 */
public final class PodDevices {
  /** Annotation on a restore target telling its workload how the restore went. */
  static final String RESTORE_STATUS = "vfio.dev/restore-status";
  private static final Logger LOG = LoggerFactory.getLogger(PodDevices.class);

  private final KubernetesClient client;
  private final NodePods pods;
  private final NodeBackend backend;
  private final String nodeName;

  public PodDevices(KubernetesClient client, NodePods pods, NodeBackend backend, String nodeName) {
    this.client = client;
    this.pods = pods;
    this.backend = backend;
    this.nodeName = nodeName;
  }

  /** Makes one per-device worker from an opened device. */
  interface Opener<T extends AutoCloseable> {
    T open(InventoryDevice inventory, MigrationDevice device, MigrationStateMachine machine) throws IOException;
  }

  PodRef currentPod(VfioNodeTask task, String reasonIfChanged) throws TaskFailure {
    var spec = task.getSpec();
    Pod pod = pods.find(task.getMetadata().getNamespace(), spec.getPodName(), spec.getPodUid());
    if (pod == null || !pod.getMetadata().getUid().equals(spec.getPodUid())) {
      throw new TaskFailure(reasonIfChanged, "pod " + spec.getPodName()
          + " was deleted or replaced after the operation started; nothing was touched");
    }
    return PodRef.of(pod);
  }

  <T extends AutoCloseable> List<T> open(PodRef pod, List<String> addresses, Opener<T> opener) throws TaskFailure {
    List<T> opened = new ArrayList<>();
    try {
      Map<String, HeldDevice> held = backend.resolver().resolve(pod).stream()
          .collect(Collectors.toMap(HeldDevice::address, Function.identity(), (a, b) -> a));
      Map<String, InventoryDevice> inventory = backend.inventory().devices().stream()
          .collect(Collectors.toMap(d -> d.identity().address(), Function.identity()));
      for (String address : addresses) {
        if (!held.containsKey(address) || !inventory.containsKey(address)) {
          throw new TaskFailure(Reasons.DEVICE_NOT_HELD, "pod " + pod + " no longer holds device "
              + address + " on node " + nodeName + "; nothing was touched");
        }
        MigrationDevice device = backend.access().open(held.get(address));
        MigrationStateMachine machine;
        try {
          machine = MigrationStateMachine.probe(device);
        } catch (VfioException e) {
          device.close();
          throw new TaskFailure(Reasons.DEVICE_NOT_MIGRATABLE, "device " + address
              + " does not support VFIO migration: " + e.getMessage());
        }
        opened.add(opener.open(inventory.get(address), device, machine));
      }
      return opened;
    } catch (TaskFailure failure) {
      closeAll(opened);
      throw failure;
    } catch (IOException | RuntimeException e) {
      closeAll(opened);
      throw new TaskFailure(Reasons.DEVICE_ERROR, "could not open the devices of pod " + pod + ": " + e.getMessage(), e);
    }
  }

  /** Tells the workload of a restore target, through the downward API, how its restore went. */
  void markRestore(PodRef pod, String value) {
    try {
      // Through a reference, not withName(), which would read the pod from the server first.
      Pod reference = new PodBuilder().withNewMetadata().withNamespace(pod.namespace()).withName(pod.name())
          .endMetadata().build();
      client.resource(reference).patch(PatchContext.of(PatchType.JSON_MERGE),
          "{\"metadata\":{\"annotations\":{\"" + RESTORE_STATUS + "\":\"" + value + "\"}}}");
    } catch (KubernetesClientException e) {
      LOG.warn("could not mark pod {} {}={}: {}", pod, RESTORE_STATUS, value, e.getMessage());
    }
  }

  static void closeAll(List<? extends AutoCloseable> resources) {
    for (AutoCloseable resource : resources) {
      try {
        resource.close();
      } catch (Exception e) {
        LOG.debug("close failed: {}", e.toString());
      }
    }
  }
}
