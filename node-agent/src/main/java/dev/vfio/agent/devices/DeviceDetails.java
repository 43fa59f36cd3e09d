package dev.vfio.agent.devices;

import java.util.Objects;
import java.util.Optional;

/**
 * What sysfs tells of a device beyond what finds and opens it: the parts a compatibility
 * fingerprint adds to the driver and ids. Each is empty when sysfs does not show it (an mdev has no
 * PCI attributes; a built-in driver or a module without {@code MODULE_VERSION} has no version).
 * Firmware versions are not here: sysfs has no generic attribute for them on a VFIO-bound function.
 *
 * @param subsystemVendorId {@code subsystem_vendor}, lowercase hex without {@code 0x}
 * @param subsystemDeviceId {@code subsystem_device}, likewise
 * @param revision {@code revision}, likewise
 * @param driverVersion {@code driver/module/version}
 */
public record DeviceDetails(
    Optional<String> subsystemVendorId,
    Optional<String> subsystemDeviceId,
    Optional<String> revision,
    Optional<String> driverVersion) {
  /** A device of which sysfs shows none of these. */
  public static final DeviceDetails UNKNOWN =
      new DeviceDetails(Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty());

  public DeviceDetails {
    Objects.requireNonNull(subsystemVendorId, "subsystemVendorId");
    Objects.requireNonNull(subsystemDeviceId, "subsystemDeviceId");
    Objects.requireNonNull(revision, "revision");
    Objects.requireNonNull(driverVersion, "driverVersion");
  }
}
