package dev.vfio.agent.inventory;

import dev.vfio.agent.vfio.DeviceIdentity;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The VFIO devices of a node as sysfs shows them. Reads below a configurable root so that tests
 * run on fixture trees; in the DaemonSet the host's {@code /sys} is mounted there.
 *
 * <p>A device counts as VFIO when a VFIO driver serves it: a PCI device bound to
 * {@code vfio-pci} or to a variant driver (by kernel convention named {@code <vendor>_vfio_pci}:
 * mlx5_vfio_pci, hisi_acc_vfio_pci, pds_vfio_pci, …), or a mediated device bound to its mdev
 * driver (every mdev driver registers a VFIO device).
 */
public final class Sysfs {
  private static final Logger LOG = LoggerFactory.getLogger(Sysfs.class);
  private final Path root;

  /** The host's sysfs at {@code /sys}. */
  public Sysfs() {
    this(Path.of("/sys"));
  }

  public Sysfs(Path sysRoot) {
    this.root = sysRoot;
  }

  public Path root() {
    return root;
  }

  /** Whether {@code driver} is vfio-pci or one of its migration variant drivers. */
  public static boolean isVfioPciDriver(String driver) {
    return driver.equals("vfio-pci") || driver.endsWith("_vfio_pci");
  }

  /**
   * Every VFIO device on the node, PCI devices first, each group in address order. Devices that
   * go away during the scan are left out; attributes that cannot be read are left empty and
   * logged, so one odd device does not hide the others.
   */
  public List<SysfsDevice> vfioDevices() throws IOException {
    Path pci = root.resolve("bus/pci/devices");
    if (!Files.isDirectory(pci)) {
      throw new NoSuchFileException(pci.toString(), null,
          "no PCI bus in sysfs: is the host's /sys mounted at " + root + "?");
    }
    List<SysfsDevice> devices = new ArrayList<>();
    for (Path device : entries(pci)) {
      pciDevice(device).ifPresent(devices::add);
    }
    // The mdev bus exists only while the mdev module is loaded.
    for (Path device : entries(root.resolve("bus/mdev/devices"))) {
      mdevDevice(device).ifPresent(devices::add);
    }
    return devices;
  }

  /**
   * The device (PCI address or mdev UUID) behind a VFIO device cdev such as {@code vfio3}, or
   * empty when sysfs has no such cdev.
   */
  public Optional<String> cdevDevice(String cdev) {
    return linkName(root.resolve("class/vfio-dev").resolve(cdev).resolve("device"));
  }

  /**
   * The devices of an IOMMU group that a VFIO driver serves, in address order; empty when the
   * group does not exist. Bridges and devices on other drivers are left out: no VFIO device fd
   * can refer to them.
   */
  public List<String> vfioDevicesInGroup(String group) throws IOException {
    List<String> devices = new ArrayList<>();
    for (Path device : entries(root.resolve("kernel/iommu_groups").resolve(group).resolve("devices"))) {
      Optional<String> driver = linkName(device.resolve("driver"));
      boolean vfio = driver.isPresent()
          && (isVfioPciDriver(driver.get()) || Files.exists(device.resolve("mdev_type")));
      if (vfio) {
        devices.add(name(device));
      }
    }
    return devices;
  }

  private Optional<SysfsDevice> pciDevice(Path device) {
    Optional<String> driver = linkName(device.resolve("driver"));
    if (driver.isEmpty() || !isVfioPciDriver(driver.get())) {
      return Optional.empty();
    }
    DeviceIdentity identity = new DeviceIdentity(name(device), driver.get(),
        pciId(device.resolve("vendor")), pciId(device.resolve("device")),
        linkName(device.resolve("iommu_group")).orElse(null));
    return stillPresent(device, new SysfsDevice(identity, cdev(device), null));
  }

  private Optional<SysfsDevice> mdevDevice(Path device) {
    Optional<String> driver = linkName(device.resolve("driver"));
    if (driver.isEmpty()) {
      // Created but not bound: there is no VFIO device to open yet.
      return Optional.empty();
    }
    Path parent;
    try {
      parent = device.toRealPath().getParent();
    } catch (IOException e) {
      LOG.debug("mdev {} went away during the scan: {}", name(device), e.toString());
      return Optional.empty();
    }
    // A PCI parent gives the ids; virtual parents (mtty, the test bed's driver) have none.
    DeviceIdentity identity = new DeviceIdentity(name(device), driver.get(),
        pciId(parent.resolve("vendor")), pciId(parent.resolve("device")),
        linkName(device.resolve("iommu_group")).orElse(null));
    SysfsDevice.Mdev mdev = new SysfsDevice.Mdev(name(parent),
        linkName(parent.resolve("driver")).orElse(null),
        linkName(device.resolve("mdev_type")).orElse(null),
        read(device.resolve("mdev_type/name")).orElse(null));
    return stillPresent(device, new SysfsDevice(identity, cdev(device), mdev));
  }

  private static Optional<SysfsDevice> stillPresent(Path device, SysfsDevice found) {
    // Attributes of a device removed mid-scan read as missing; such a device is simply gone.
    if (!Files.isDirectory(device)) {
      LOG.debug("device {} went away during the scan", found.address());
      return Optional.empty();
    }
    return Optional.of(found);
  }

  private static String cdev(Path device) {
    try {
      List<Path> cdevs = entries(device.resolve("vfio-dev"));
      return cdevs.isEmpty() ? null : name(cdevs.get(0));
    } catch (IOException e) {
      LOG.warn("cannot list the VFIO cdev of {}: {}", device, e.toString());
      return null;
    }
  }

  /** Sysfs writes PCI ids as {@code 0x10de}; the API uses {@code 10de}. */
  private static String pciId(Path file) {
    return read(file)
        .map(id -> id.toLowerCase(Locale.ROOT))
        .map(id -> id.startsWith("0x") ? id.substring(2) : id)
        .orElse("");
  }

  private static Optional<String> read(Path file) {
    try {
      return Optional.of(Files.readString(file).trim());
    } catch (NoSuchFileException e) {
      return Optional.empty();
    } catch (IOException e) {
      LOG.warn("cannot read {}: {}", file, e.toString());
      return Optional.empty();
    }
  }

  /** Sysfs says "bound to", "member of" and "backed by" with links; only their last name counts. */
  private static Optional<String> linkName(Path link) {
    try {
      return Optional.of(name(Files.readSymbolicLink(link)));
    } catch (NoSuchFileException e) {
      return Optional.empty();
    } catch (IOException e) {
      LOG.warn("cannot read link {}: {}", link, e.toString());
      return Optional.empty();
    }
  }

  private static List<Path> entries(Path directory) throws IOException {
    List<Path> entries = new ArrayList<>();
    try (DirectoryStream<Path> stream = Files.newDirectoryStream(directory)) {
      stream.forEach(entries::add);
    } catch (NoSuchFileException e) {
      return List.of();
    }
    entries.sort((a, b) -> name(a).compareTo(name(b)));
    return entries;
  }

  private static String name(Path path) {
    return path.getFileName().toString();
  }
}
