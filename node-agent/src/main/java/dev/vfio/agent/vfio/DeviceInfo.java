package dev.vfio.agent.vfio;

/**
 * {@code VFIO_DEVICE_GET_INFO}: what kind of device an fd is. The call also tells a VFIO device fd
 * from any other file: only a VFIO device answers it.
 *
 * @param resettable the device implements {@code VFIO_DEVICE_RESET}
 * @param pci the device is a PCI device (vfio-pci, a variant driver, or a PCI-like mdev)
 * @param regions number of regions (BARs, config space, ...)
 * @param irqs number of interrupt indexes
 */
public record DeviceInfo(boolean resettable, boolean pci, long regions, long irqs) {
  /** As {@code VFIO_DEVICE_FLAGS_*} names, e.g. {@code PCI|RESET}. */
  public String flagNames() {
    String names = (pci ? "PCI|" : "") + (resettable ? "RESET|" : "");
    return names.isEmpty() ? "none" : names.substring(0, names.length() - 1);
  }
}
