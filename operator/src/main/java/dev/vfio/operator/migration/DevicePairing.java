package dev.vfio.operator.migration;

import dev.vfio.api.v1alpha1.DeviceFingerprint;
import dev.vfio.api.v1alpha1.DeviceMapping;
import dev.vfio.api.v1alpha1.NodeLabels;
import dev.vfio.api.v1alpha1.Reason;
import dev.vfio.operator.preflight.Rejection;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Pairs source devices with target devices: as the user mapped them, or by driver and address
 * order. A pair is only made of compatible devices — the same compatibility key of their
 * fingerprints, or, where one side has no fingerprint (an agent or a snapshot older than them), the
 * same driver and PCI ids — since device state means nothing to a different device.
 */
final class DevicePairing {
  /** What pairing needs to know of a device. */
  record Device(
      String address,
      String driver,
      String vendorId,
      String deviceId,
      List<String> flags,
      DeviceFingerprint fingerprint) {
    /** Why state saved from this device does not load into {@code other}; empty if it does. */
    Optional<String> incompatibility(Device other) {
      if (fingerprint != null && other.fingerprint != null) {
        return fingerprint
            .firstDifference(other.fingerprint)
            .map(
                field ->
                    "their fingerprints differ in "
                        + field
                        + ", compatibility key "
                        + fingerprint.computeKey()
                        + " vs "
                        + other.fingerprint.computeKey());
      }
      boolean same =
          Objects.equals(driver, other.driver)
              && equalsIgnoreCase(vendorId, other.vendorId)
              && equalsIgnoreCase(deviceId, other.deviceId);
      return same
          ? Optional.empty()
          : Optional.of("state moves only between the same driver and PCI ids");
    }

    String identity() {
      return driver + " " + vendorId + ":" + deviceId;
    }

    private static boolean equalsIgnoreCase(String a, String b) {
      return a == null ? b == null : a.equalsIgnoreCase(b);
    }
  }

  /** Either pairs or the reason there are none. */
  record Outcome(List<DeviceMapping> pairs, Rejection rejection) {}

  private DevicePairing() {}

  static Outcome pair(List<Device> sources, List<Device> targets, List<DeviceMapping> requested) {
    Map<String, Device> sourceByAddress = index(sources);
    Map<String, Device> targetByAddress = index(targets);
    List<DeviceMapping> pairs = new ArrayList<>();
    if (requested != null && !requested.isEmpty()) {
      for (DeviceMapping mapping : requested) {
        Device source = sourceByAddress.get(mapping.getSource());
        Device target = targetByAddress.get(mapping.getTarget());
        if (source == null) {
          return refuse(
              Reason.DEVICE_NOT_HELD,
              "deviceMap source "
                  + mapping.getSource()
                  + " is not a device of the source; it has "
                  + sourceByAddress.keySet());
        }
        if (target == null) {
          return refuse(
              Reason.DEVICE_NOT_HELD,
              "deviceMap target "
                  + mapping.getTarget()
                  + " is not held by the target pod; it holds "
                  + targetByAddress.keySet());
        }
        Rejection incompatible = compatibility(source, target);
        if (incompatible != null) {
          return new Outcome(List.of(), incompatible);
        }
        pairs.add(mapping(source, target));
      }
      return new Outcome(pairs, null);
    }
    if (sources.size() != targets.size()) {
      return refuse(
          Reason.INCOMPATIBLE_DEVICES,
          "the source has "
              + sources.size()
              + " device(s) and the target pod holds "
              + targets.size()
              + ": give the target the same devices or set spec.deviceMap");
    }
    Comparator<Device> order =
        Comparator.comparing(Device::driver, Comparator.nullsFirst(Comparator.naturalOrder()))
            .thenComparing(Device::address);
    List<Device> sortedSources = sources.stream().sorted(order).toList();
    List<Device> sortedTargets = targets.stream().sorted(order).toList();
    for (int i = 0; i < sortedSources.size(); i++) {
      Rejection incompatible = compatibility(sortedSources.get(i), sortedTargets.get(i));
      if (incompatible != null) {
        return new Outcome(List.of(), incompatible);
      }
      pairs.add(mapping(sortedSources.get(i), sortedTargets.get(i)));
    }
    return new Outcome(pairs, null);
  }

  private static Rejection compatibility(Device source, Device target) {
    Optional<String> incompatible = source.incompatibility(target);
    if (incompatible.isPresent()) {
      return new Rejection(
          Reason.INCOMPATIBLE_DEVICES,
          "source device "
              + source.address()
              + " ("
              + source.identity()
              + ") cannot load into target device "
              + target.address()
              + " ("
              + target.identity()
              + "): "
              + incompatible.get()
              + advice(source));
    }
    if (target.flags() == null || !target.flags().contains("STOP_COPY")) {
      return new Rejection(
          Reason.DEVICE_NOT_MIGRATABLE,
          "target device "
              + target.address()
              + " does not support VFIO migration (no STOP_COPY), so it cannot take state");
    }
    return null;
  }

  private static String advice(Device source) {
    return source.fingerprint() == null
        ? ""
        : "; run the target pod on a node labelled "
            + NodeLabels.compatibility(source.fingerprint().computeKey())
            + "="
            + NodeLabels.PRESENT
            + " with such a device, or pair the devices with spec.deviceMap";
  }

  private static DeviceMapping mapping(Device source, Device target) {
    DeviceMapping mapping = new DeviceMapping();
    mapping.setSource(source.address());
    mapping.setTarget(target.address());
    return mapping;
  }

  private static Map<String, Device> index(List<Device> devices) {
    Map<String, Device> byAddress = new LinkedHashMap<>();
    devices.forEach(d -> byAddress.put(d.address(), d));
    return byAddress;
  }

  private static Outcome refuse(Reason reason, String message) {
    return new Outcome(List.of(), new Rejection(reason, message));
  }
}
