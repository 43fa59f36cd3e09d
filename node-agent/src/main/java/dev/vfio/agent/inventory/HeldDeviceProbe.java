package dev.vfio.agent.inventory;

import dev.vfio.agent.devices.VfioDevice;
import dev.vfio.agent.pods.HeldDevice;
import dev.vfio.agent.pods.PodDeviceResolver;
import dev.vfio.agent.pods.PodRef;
import dev.vfio.agent.vfio.DeviceAccess;
import dev.vfio.agent.vfio.MigrationDevice;
import dev.vfio.agent.vfio.VfioException;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Probes migration capabilities through the fd a workload already holds, never by opening a device:
 * vfio-pci resets a function nobody holds on open and on close, and an inventory that runs every
 * heartbeat must not do that. It learns the holders from the pod resolver it wraps, which the node
 * report consults before the inventory; a device no pod holds is listed without flags, which is all
 * the operator needs (it only ever moves the state of held devices).
 */
public final class HeldDeviceProbe implements MigrationProbe, PodDeviceResolver {
  private final PodDeviceResolver resolver;
  private final DeviceAccess access;
  private final Map<String, HeldDevice> holders = new ConcurrentHashMap<>();

  public HeldDeviceProbe(PodDeviceResolver resolver, DeviceAccess access) {
    this.resolver = resolver;
    this.access = access;
  }

  @Override
  public List<HeldDevice> resolve(PodRef pod) throws IOException {
    List<HeldDevice> held = resolver.resolve(pod);
    held.forEach(device -> holders.put(device.address(), device));
    return held;
  }

  @Override
  public Optional<MigrationInfo> probe(VfioDevice device) throws IOException {
    HeldDevice holder = holders.get(device.address());
    if (holder == null) {
      return Optional.empty();
    }
    try (MigrationDevice open = access.open(holder)) {
      return Optional.of(MigrationInfo.of(open));
    } catch (VfioException e) {
      // The holder went away, or its fd is no longer this device: ask again next time.
      holders.remove(device.address());
      throw e;
    }
  }
}
