package dev.vfio.agent.tasks;

import dev.vfio.api.v1alpha1.DeviceMapping;
import dev.vfio.api.v1alpha1.Reason;
import dev.vfio.api.v1alpha1.VfioNodeTaskSpec;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A task's {@code deviceMap}, checked before any device is touched: every source and every target
 * named once, and every device the task drives paired. A source named twice would stream one
 * device's state twice; a target named twice would take two states into one device, which it can
 * only refuse after both sources stopped.
 */
final class DeviceMap {
  private final Map<String, String> targetOf;
  private final Map<String, String> sourceOf;

  private DeviceMap(Map<String, String> targetOf, Map<String, String> sourceOf) {
    this.targetOf = targetOf;
    this.sourceOf = sourceOf;
  }

  static DeviceMap of(VfioNodeTaskSpec spec) throws TaskFailure {
    Map<String, String> targetOf = new HashMap<>();
    Map<String, String> sourceOf = new HashMap<>();
    List<DeviceMapping> mappings = spec.getDeviceMap() == null ? List.of() : spec.getDeviceMap();
    for (DeviceMapping mapping : mappings) {
      if (targetOf.putIfAbsent(mapping.getSource(), mapping.getTarget()) != null) {
        throw new TaskFailure(
            Reason.INVALID_SPEC,
            "spec.deviceMap names source device "
                + mapping.getSource()
                + " twice; nothing was touched");
      }
      if (sourceOf.putIfAbsent(mapping.getTarget(), mapping.getSource()) != null) {
        throw new TaskFailure(
            Reason.INVALID_SPEC,
            "spec.deviceMap names target device "
                + mapping.getTarget()
                + " twice; nothing was touched");
      }
    }
    return new DeviceMap(targetOf, sourceOf);
  }

  /** Refuses a {@code spec.devices} that names a device twice. */
  static void requireDistinct(List<String> devices) throws TaskFailure {
    Set<String> seen = new HashSet<>();
    for (String device : devices) {
      if (!seen.add(device)) {
        throw new TaskFailure(
            Reason.INVALID_SPEC,
            "spec.devices names device " + device + " twice; nothing was touched");
      }
    }
  }

  /** For the source side: every device the task saves has its target. */
  DeviceMap requireSources(List<String> devices) throws TaskFailure {
    return requirePaired(devices, targetOf, "source");
  }

  /** For the target side: every device the task loads has its source. */
  DeviceMap requireTargets(List<String> devices) throws TaskFailure {
    return requirePaired(devices, sourceOf, "target");
  }

  String targetOf(String source) {
    return targetOf.get(source);
  }

  String sourceOf(String target) {
    return sourceOf.get(target);
  }

  private DeviceMap requirePaired(List<String> devices, Map<String, String> pairs, String side)
      throws TaskFailure {
    List<String> named = devices == null ? List.of() : devices;
    requireDistinct(named);
    for (String device : named) {
      if (!pairs.containsKey(device)) {
        throw new TaskFailure(
            Reason.INVALID_SPEC,
            "spec.deviceMap has no entry with "
                + side
                + " device "
                + device
                + "; nothing was touched");
      }
    }
    return this;
  }
}
