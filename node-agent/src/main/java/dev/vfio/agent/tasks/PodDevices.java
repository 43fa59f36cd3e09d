package dev.vfio.agent.tasks;

import dev.vfio.agent.NodeBackend;
import dev.vfio.agent.inventory.InventoryDevice;
import dev.vfio.agent.pods.HeldDevice;
import dev.vfio.agent.pods.PodRef;
import dev.vfio.agent.vfio.MigrationDevice;
import dev.vfio.agent.vfio.MigrationProtocol;
import dev.vfio.agent.vfio.MigrationStateMachine;
import dev.vfio.agent.vfio.VfioException;
import dev.vfio.api.v1alpha1.Reason;
import dev.vfio.api.v1alpha1.VfioNodeTask;
import io.fabric8.kubernetes.api.model.Pod;
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
 * checked (same UID), must still hold each device, each device is named once, and each is opened
 * and probed before any is moved — so a task that cannot run fails having touched nothing.
 */
public final class PodDevices {
  private static final Logger LOG = LoggerFactory.getLogger(PodDevices.class);

  private final TaskPods pods;
  private final TargetOptIn targetOptIn;
  private final NodeBackend backend;
  private final String nodeName;

  public PodDevices(TaskPods pods, TargetOptIn targetOptIn, NodeBackend backend, String nodeName) {
    this.pods = pods;
    this.targetOptIn = targetOptIn;
    this.backend = backend;
    this.nodeName = nodeName;
  }

  /** How a restore target's consent is checked before its devices take state. */
  TargetOptIn targetOptIn() {
    return targetOptIn;
  }

  /** Makes one per-device worker from an opened device. */
  interface Opener<T extends AutoCloseable> {
    T open(InventoryDevice inventory, MigrationDevice device, MigrationStateMachine machine)
        throws IOException;
  }

  PodRef currentPod(VfioNodeTask task, Reason reasonIfChanged) throws TaskFailure {
    var spec = task.getSpec();
    Pod pod = pods.find(task.getMetadata().getNamespace(), spec.getPodName(), spec.getPodUid());
    if (pod == null || !pod.getMetadata().getUid().equals(spec.getPodUid())) {
      throw new TaskFailure(
          reasonIfChanged,
          "pod "
              + spec.getPodName()
              + " was deleted or replaced after the operation started; nothing was touched");
    }
    return PodRef.of(pod);
  }

  /**
   * Opens every device of {@code addresses} that {@code pod} holds and makes its worker; a failure
   * of {@code opener} means what {@code classifier} says it means.
   */
  <T extends AutoCloseable> List<T> open(
      PodRef pod, List<String> addresses, FailureClassifier classifier, Opener<T> opener)
      throws TaskFailure {
    List<String> wanted = addresses == null ? List.of() : addresses;
    DeviceMap.requireDistinct(wanted);
    List<T> opened = new ArrayList<>();
    try {
      Map<String, HeldDevice> held =
          backend.resolver().resolve(pod).stream()
              .collect(Collectors.toMap(HeldDevice::address, Function.identity(), (a, b) -> a));
      Map<String, InventoryDevice> inventory =
          backend.inventory().devices().stream()
              .collect(Collectors.toMap(d -> d.identity().address(), Function.identity()));
      for (String address : wanted) {
        if (!held.containsKey(address) || !inventory.containsKey(address)) {
          throw new TaskFailure(
              Reason.DEVICE_NOT_HELD,
              "pod "
                  + pod
                  + " no longer holds device "
                  + address
                  + " on node "
                  + nodeName
                  + "; nothing was touched");
        }
        MigrationDevice device = backend.access().open(held.get(address));
        MigrationStateMachine machine;
        try {
          machine = MigrationStateMachine.probe(device);
        } catch (VfioException e) {
          TaskFailure refusal = notMigratable(address, device, e);
          device.close();
          throw refusal;
        }
        try {
          opened.add(opener.open(inventory.get(address), device, machine));
        } catch (IOException | RuntimeException e) {
          machine.close();
          device.close();
          throw classifier
              .classify(e)
              .in(
                  "could not prepare device "
                      + address
                      + " of pod "
                      + pod
                      + " (nothing was touched)");
        }
      }
      return opened;
    } catch (TaskFailure failure) {
      closeAll(opened);
      throw failure;
    } catch (IOException | RuntimeException e) {
      closeAll(opened);
      throw new TaskFailure(
          Reason.DEVICE_ERROR,
          "could not open the devices of pod " + pod + ": " + e.getMessage(),
          e);
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

  /**
   * Why {@code device}, whose probe failed with {@code e}, cannot be migrated: a v1 device is told
   * apart from one without migration, so that the admin knows a driver update, not a different
   * device, is the fix.
   */
  private static TaskFailure notMigratable(
      String address, MigrationDevice device, VfioException e) {
    MigrationProtocol protocol;
    try {
      protocol = MigrationProtocol.of(device);
    } catch (VfioException unreadable) {
      protocol = MigrationProtocol.NONE;
    }
    if (protocol == MigrationProtocol.V1) {
      return new TaskFailure(
          Reason.MIGRATION_PROTOCOL_V1, "device " + address + " " + protocol.description());
    }
    return new TaskFailure(
        Reason.DEVICE_NOT_MIGRATABLE,
        "device " + address + " does not support VFIO migration: " + e.getMessage());
  }
}
