package dev.vfio.agent.sim;

import dev.vfio.agent.devices.DeviceDetails;
import dev.vfio.agent.vfio.DeviceIdentity;
import dev.vfio.agent.vfio.MigrationFlags;
import java.util.Objects;

/**
 * One simulated device: who it claims to be, what it can do, and how it behaves.
 *
 * @param address PCI address (or mdev UUID) the device answers to
 * @param driver the driver name; with the ids it decides compatibility, as for real devices
 * @param vendorId PCI vendor id, hex without 0x
 * @param deviceId PCI device id, hex without 0x
 * @param iommuGroup the group the device would sit in
 * @param stateBytes size of the device's state image
 * @param flags the migration flags it advertises; without STOP_COPY it cannot migrate and answers
 *     ENOTTY, like a device whose driver has no migration ops
 * @param dirtyBytesPerRound how much of the image the running device re-dirties per PRE_COPY round
 * @param zeroAtPrecopyEnd read() returns 0 at the PRE_COPY temporary end, as mtty does, instead of
 *     failing with ENOMSG, as mlx5 does and the uAPI header asks
 * @param migDataSize whether {@code VFIO_DEVICE_FEATURE_MIG_DATA_SIZE} exists; absent on kernels
 *     before 6.2 such as Debian's 6.1
 * @param precopyInfoV2 whether {@code VFIO_DEVICE_FEATURE_MIG_PRECOPY_INFOv2} exists (Linux 7.1); a
 *     device without PRE_COPY refuses it either way
 * @param reinitOnPrecopyInfo the {@code VFIO_MIG_GET_PRECOPY_INFO} call of a PRE_COPY session (1
 *     for the first) at which the device finds its initial data changed, as mlx5 does when its
 *     firmware re-initializes during PRE_COPY; 0 for never. See {@link SaveSession#reinit}.
 * @param v1MigrationRegion the device has the migration region of the v1 protocol ({@code
 *     VFIO_REGION_TYPE_MIGRATION_DEPRECATED}), as devices of kernels before 5.18 and old vendor
 *     drivers do; with flags lacking STOP_COPY it is a v1-only device
 * @param faults failures injected from the start
 * @param details subsystem ids, revision and driver version for the device's fingerprint; with the
 *     driver and ids they decide whether a restore or migration target is compatible
 */
public record SimulatedDeviceSpec(
    String address,
    String driver,
    String vendorId,
    String deviceId,
    String iommuGroup,
    long stateBytes,
    MigrationFlags flags,
    long dirtyBytesPerRound,
    boolean zeroAtPrecopyEnd,
    boolean migDataSize,
    boolean precopyInfoV2,
    int reinitOnPrecopyInfo,
    boolean v1MigrationRegion,
    SimulatedFaults faults,
    DeviceDetails details) {

  public SimulatedDeviceSpec {
    Objects.requireNonNull(address, "address");
    Objects.requireNonNull(driver, "driver");
    Objects.requireNonNull(vendorId, "vendorId");
    Objects.requireNonNull(deviceId, "deviceId");
    Objects.requireNonNull(iommuGroup, "iommuGroup");
    Objects.requireNonNull(flags, "flags");
    Objects.requireNonNull(faults, "faults");
    Objects.requireNonNull(details, "details");
    if (address.isBlank()) {
      throw new IllegalArgumentException("address must not be blank");
    }
    if (stateBytes < 0) {
      throw new IllegalArgumentException(address + ": stateBytes must not be negative");
    }
    if (dirtyBytesPerRound < 0) {
      throw new IllegalArgumentException(address + ": dirtyBytesPerRound must not be negative");
    }
    if (reinitOnPrecopyInfo < 0) {
      throw new IllegalArgumentException(address + ": reinitOnPrecopyInfo must not be negative");
    }
  }

  /**
   * A STOP_COPY device with P2P states (as mlx5 and the kernel test driver have) with a state image
   * of {@code stateBytes}, MIG_DATA_SIZE, precopy info v2 (used only once PRE_COPY is added), no
   * REINIT, no v1 region and no faults; adjust with the {@code with…} methods.
   */
  public static SimulatedDeviceSpec of(String address, long stateBytes) {
    return new SimulatedDeviceSpec(
        address,
        "vfio-sim-pci",
        "1b36",
        "0101",
        "sim",
        stateBytes,
        new MigrationFlags(MigrationFlags.STOP_COPY | MigrationFlags.P2P),
        0,
        false,
        true,
        true,
        0,
        false,
        SimulatedFaults.NONE,
        DeviceDetails.UNKNOWN);
  }

  public DeviceIdentity identity() {
    return new DeviceIdentity(address, driver, vendorId, deviceId, iommuGroup);
  }

  public SimulatedDeviceSpec withFlags(MigrationFlags newFlags) {
    return new SimulatedDeviceSpec(
        address,
        driver,
        vendorId,
        deviceId,
        iommuGroup,
        stateBytes,
        newFlags,
        dirtyBytesPerRound,
        zeroAtPrecopyEnd,
        migDataSize,
        precopyInfoV2,
        reinitOnPrecopyInfo,
        v1MigrationRegion,
        faults,
        details);
  }

  public SimulatedDeviceSpec withDirtyBytesPerRound(long bytes) {
    return new SimulatedDeviceSpec(
        address,
        driver,
        vendorId,
        deviceId,
        iommuGroup,
        stateBytes,
        flags,
        bytes,
        zeroAtPrecopyEnd,
        migDataSize,
        precopyInfoV2,
        reinitOnPrecopyInfo,
        v1MigrationRegion,
        faults,
        details);
  }

  public SimulatedDeviceSpec withZeroAtPrecopyEnd(boolean zero) {
    return new SimulatedDeviceSpec(
        address,
        driver,
        vendorId,
        deviceId,
        iommuGroup,
        stateBytes,
        flags,
        dirtyBytesPerRound,
        zero,
        migDataSize,
        precopyInfoV2,
        reinitOnPrecopyInfo,
        v1MigrationRegion,
        faults,
        details);
  }

  public SimulatedDeviceSpec withMigDataSize(boolean present) {
    return new SimulatedDeviceSpec(
        address,
        driver,
        vendorId,
        deviceId,
        iommuGroup,
        stateBytes,
        flags,
        dirtyBytesPerRound,
        zeroAtPrecopyEnd,
        present,
        precopyInfoV2,
        reinitOnPrecopyInfo,
        v1MigrationRegion,
        faults,
        details);
  }

  public SimulatedDeviceSpec withFaults(SimulatedFaults newFaults) {
    return new SimulatedDeviceSpec(
        address,
        driver,
        vendorId,
        deviceId,
        iommuGroup,
        stateBytes,
        flags,
        dirtyBytesPerRound,
        zeroAtPrecopyEnd,
        migDataSize,
        precopyInfoV2,
        reinitOnPrecopyInfo,
        v1MigrationRegion,
        newFaults,
        details);
  }

  public SimulatedDeviceSpec withPrecopyInfoV2(boolean present) {
    return new SimulatedDeviceSpec(
        address,
        driver,
        vendorId,
        deviceId,
        iommuGroup,
        stateBytes,
        flags,
        dirtyBytesPerRound,
        zeroAtPrecopyEnd,
        migDataSize,
        present,
        reinitOnPrecopyInfo,
        v1MigrationRegion,
        faults,
        details);
  }

  public SimulatedDeviceSpec withReinitOnPrecopyInfo(int call) {
    return new SimulatedDeviceSpec(
        address,
        driver,
        vendorId,
        deviceId,
        iommuGroup,
        stateBytes,
        flags,
        dirtyBytesPerRound,
        zeroAtPrecopyEnd,
        migDataSize,
        precopyInfoV2,
        call,
        v1MigrationRegion,
        faults,
        details);
  }

  public SimulatedDeviceSpec withDetails(DeviceDetails newDetails) {
    return new SimulatedDeviceSpec(
        address,
        driver,
        vendorId,
        deviceId,
        iommuGroup,
        stateBytes,
        flags,
        dirtyBytesPerRound,
        zeroAtPrecopyEnd,
        migDataSize,
        precopyInfoV2,
        reinitOnPrecopyInfo,
        v1MigrationRegion,
        faults,
        newDetails);
  }

  public SimulatedDeviceSpec withV1MigrationRegion(boolean present) {
    return new SimulatedDeviceSpec(
        address,
        driver,
        vendorId,
        deviceId,
        iommuGroup,
        stateBytes,
        flags,
        dirtyBytesPerRound,
        zeroAtPrecopyEnd,
        migDataSize,
        precopyInfoV2,
        reinitOnPrecopyInfo,
        present,
        faults,
        details);
  }
}
