package dev.vfio.agent.devices;

import dev.vfio.agent.devices.VfioDevice.Kind;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The VFIO devices of this node, from sysfs and {@code /dev}: every one of them, and the one a
 * name, a cdev, an IOMMU group or a sysfs path refers to. The only place the agent decides what a
 * VFIO device is and reads what describes it. Reads files only; opens no device.
 *
 * <p>A device is VFIO when a VFIO driver serves it:
 *
 * <ul>
 *   <li>a PCI function bound to {@code vfio-pci} or to a variant driver. In-tree variants take
 *       their module's name, whose dashes the kernel turns into underscores: {@code mlx5_vfio_pci},
 *       {@code hisi_acc_vfio_pci}, {@code pds_vfio_pci}, {@code virtio_vfio_pci}, {@code
 *       xe_vfio_pci}, … An out-of-tree driver may spell it {@code -vfio-pci}, and may not follow
 *       the convention at all; from Linux 6.1 every driver that registers a VFIO device gives it a
 *       {@code vfio-dev} directory, which counts whatever the driver's name.
 *   <li>an mdev bound to a driver: every mdev driver registers a VFIO device.
 * </ul>
 *
 * <p>Everything is read below a root directory ({@code sys/}, {@code dev/}) so that tests run on a
 * copy of the real layout; on a node it is {@code /}, where the agent's DaemonSet mounts the host's
 * {@code /sys} and {@code /dev/vfio}. Listing tolerates a device that goes away during the scan, or
 * an attribute that cannot be read (logged), so that one odd device does not hide the others;
 * naming a device that is not VFIO fails with the reason.
 *
 * <p>Past 300 lines because it is the only reader of sysfs for devices (issue 11 merged two that
 * disagreed): keeping every rule of what a VFIO device looks like in one place is the point.
 */
public final class VfioDevices {
  private static final Pattern PCI_ADDRESS =
      Pattern.compile("[0-9a-fA-F]{4}:[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\\.[0-7]");
  private static final Pattern SHORT_PCI_ADDRESS =
      Pattern.compile("[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\\.[0-7]");
  private static final Pattern UUID =
      Pattern.compile(
          "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");
  private static final String NAMES =
      "give a PCI address (0000:65:00.0), an mdev UUID, "
          + "/dev/vfio/devices/vfioN, /dev/vfio/GROUP or the device's sysfs path";

  private final Path root;

  /** Reads {@code sys/} and {@code dev/} below {@code root}. */
  public VfioDevices(Path root) {
    this.root = root;
  }

  /** The running system's {@code /sys} and {@code /dev}. */
  public static VfioDevices ofSystem() {
    return new VfioDevices(Path.of("/"));
  }

  /** Where sysfs is read: what a message asks about when sysfs does not know a device. */
  public Path sysRoot() {
    return path("/sys");
  }

  /**
   * Every VFIO device on the node: PCI functions first, then mdevs, each in address order.
   *
   * @throws NoSuchFileException when sysfs has no PCI bus: the host's /sys is not there
   */
  public List<VfioDevice> list() throws IOException {
    Path pci = path("/sys/bus/pci/devices");
    if (!Files.isDirectory(pci)) {
      throw new NoSuchFileException(
          pci.toString(),
          null,
          "no PCI bus in sysfs: is the host's /sys mounted at " + sysRoot() + "?");
    }
    List<VfioDevice> devices = new ArrayList<>();
    for (String address : entries(pci)) {
      pciIfVfio(address).ifPresent(devices::add);
    }
    // The mdev bus exists only while the mdev module is loaded.
    for (String uuid : entries(path("/sys/bus/mdev/devices"))) {
      mdevIfVfio(uuid).ifPresent(devices::add);
    }
    return devices;
  }

  /**
   * The device an admin names: a PCI address (with or without its domain, any case), an mdev UUID,
   * a cdev {@code /dev/vfio/devices/vfioN}, a group {@code /dev/vfio/N} holding one VFIO device, or
   * a path under {@code /sys}.
   *
   * @throws NotVfioDeviceException naming {@code name} and why it is not a VFIO device here
   */
  public VfioDevice find(String name) throws IOException {
    String given = name.trim();
    if (SHORT_PCI_ADDRESS.matcher(given).matches()) {
      return pci("0000:" + given.toLowerCase(Locale.ROOT));
    }
    if (PCI_ADDRESS.matcher(given).matches()) {
      return pci(given.toLowerCase(Locale.ROOT));
    }
    if (UUID.matcher(given).matches()) {
      return mdev(given.toLowerCase(Locale.ROOT));
    }
    Matcher cdev = VfioDevice.CDEV_NODE.matcher(given);
    if (cdev.matches()) {
      return byCdev(cdev.group(1))
          .orElseThrow(
              () ->
                  new NotVfioDeviceException(
                      given + ": no such VFIO character device on this node"));
    }
    Matcher group = VfioDevice.GROUP_NODE.matcher(given);
    if (group.matches()) {
      return onlyDeviceOf(given, group.group(1));
    }
    if (given.startsWith("/sys/")) {
      return bySysfsPath(given)
          .orElseThrow(() -> new NotVfioDeviceException(given + ": no such file"));
    }
    throw new NotVfioDeviceException(given + " is not a VFIO device: " + NAMES);
  }

  /**
   * The device behind the cdev {@code vfioN}; empty when sysfs has no such cdev.
   *
   * @throws NotVfioDeviceException when sysfs has it, but not as a PCI function or an mdev
   */
  public Optional<VfioDevice> byCdev(String cdev) throws IOException {
    return bySysfsPath("/sys/class/vfio-dev/" + cdev + "/device");
  }

  /**
   * The device at a sysfs path, such as the {@code vfio-device-syspath} of an fd's fdinfo; empty
   * when there is no such path.
   *
   * @throws NotVfioDeviceException when the path is not a VFIO device
   */
  public Optional<VfioDevice> bySysfsPath(String sysfsPath) throws IOException {
    Path device = path(sysfsPath);
    if (!Files.exists(device)) {
      return Optional.empty();
    }
    String name = device.toRealPath().getFileName().toString();
    if (PCI_ADDRESS.matcher(name).matches()) {
      return Optional.of(pci(name));
    }
    if (UUID.matcher(name).matches()) {
      return Optional.of(mdev(name));
    }
    throw new NotVfioDeviceException(
        sysfsPath + " is " + name + ", neither a PCI function nor an mdev");
  }

  /**
   * The VFIO devices of IOMMU group {@code group}, in address order; empty when there is no such
   * group. Bridges and devices on other drivers are left out: no VFIO fd can refer to them.
   */
  public List<VfioDevice> inGroup(String group) throws IOException {
    List<VfioDevice> devices = new ArrayList<>();
    for (String name : entries(path("/sys/kernel/iommu_groups/" + group + "/devices"))) {
      Optional<VfioDevice> device =
          PCI_ADDRESS.matcher(name).matches()
              ? pciIfVfio(name)
              : UUID.matcher(name).matches() ? mdevIfVfio(name) : Optional.empty();
      device.ifPresent(devices::add);
    }
    return devices;
  }

  private VfioDevice onlyDeviceOf(String given, String group) throws IOException {
    List<VfioDevice> devices = inGroup(group);
    if (devices.size() == 1) {
      return devices.get(0);
    }
    throw new NotVfioDeviceException(
        devices.isEmpty()
            ? given + ": no VFIO device in IOMMU group " + group
            : given
                + " may be any of "
                + devices.stream().map(VfioDevice::address).toList()
                + " (IOMMU group "
                + group
                + "): name the device");
  }

  private VfioDevice pci(String address) throws IOException {
    Path device = path("/sys/bus/pci/devices/" + address);
    if (!Files.isDirectory(device)) {
      throw new NotVfioDeviceException("there is no PCI device " + address + " on this node");
    }
    Optional<VfioDevice> vfio = pciIfVfio(address);
    if (vfio.isPresent()) {
      return vfio.get();
    }
    throw new NotVfioDeviceException(
        linkName(device.resolve("driver"))
            .map(
                driver ->
                    address
                        + " is bound to "
                        + driver
                        + ", not to vfio-pci or a VFIO variant"
                        + " driver")
            .orElse(address + " is bound to no driver; bind it to vfio-pci first"));
  }

  private Optional<VfioDevice> pciIfVfio(String address) throws IOException {
    Path device = path("/sys/bus/pci/devices/" + address);
    Optional<String> driver = linkName(device.resolve("driver"));
    if (driver.isEmpty()
        || !(isVfioPciDriver(driver.get()) || Files.isDirectory(device.resolve("vfio-dev")))) {
      return Optional.empty();
    }
    Optional<String> group = linkName(device.resolve("iommu_group"));
    return stillPresent(
        device,
        new VfioDevice(
            address,
            Kind.PCI,
            driver.get(),
            pciId(device.resolve("vendor")),
            pciId(device.resolve("device")),
            Optional.empty(),
            group,
            groupNode(group),
            cdev(device),
            new DeviceDetails(
                optionalId(device.resolve("subsystem_vendor")),
                optionalId(device.resolve("subsystem_device")),
                optionalId(device.resolve("revision")),
                read(device.resolve("driver/module/version")).filter(v -> !v.isEmpty()))));
  }

  private VfioDevice mdev(String uuid) throws IOException {
    if (!Files.isDirectory(path("/sys/bus/mdev/devices/" + uuid))) {
      throw new NotVfioDeviceException("there is no mdev device " + uuid + " on this node");
    }
    return mdevIfVfio(uuid)
        .orElseThrow(() -> new NotVfioDeviceException("mdev " + uuid + " is bound to no driver"));
  }

  private Optional<VfioDevice> mdevIfVfio(String uuid) throws IOException {
    Path device = path("/sys/bus/mdev/devices/" + uuid);
    Optional<String> driver = linkName(device.resolve("driver"));
    if (driver.isEmpty()) {
      // Created but not bound: there is no VFIO device to open yet.
      return Optional.empty();
    }
    Optional<String> group = linkName(device.resolve("iommu_group"));
    return stillPresent(
        device,
        new VfioDevice(
            uuid,
            Kind.MDEV,
            driver.get(),
            "",
            "",
            linkName(device.resolve("mdev_type")),
            group,
            groupNode(group),
            cdev(device),
            new DeviceDetails(
                Optional.empty(),
                Optional.empty(),
                Optional.empty(),
                read(device.resolve("driver/module/version")).filter(v -> !v.isEmpty()))));
  }

  /** vfio-pci itself or a variant named by the convention; see the class comment. */
  private static boolean isVfioPciDriver(String driver) {
    return driver.equals("vfio-pci")
        || driver.endsWith("_vfio_pci")
        || driver.endsWith("-vfio-pci");
  }

  private static Optional<VfioDevice> stillPresent(Path device, VfioDevice found) {
    // Attributes of a device removed mid-scan read as missing; such a device is simply gone.
    if (!Files.isDirectory(device)) {
      log().debug("device {} went away during the scan", found.address());
      return Optional.empty();
    }
    return Optional.of(found);
  }

  /** {@code /dev/vfio/N}, or {@code /dev/vfio/noiommu-N} for a group VFIO made up itself. */
  private Optional<String> groupNode(Optional<String> group) {
    return group.flatMap(
        number ->
            Stream.of("/dev/vfio/" + number, "/dev/vfio/noiommu-" + number)
                .filter(node -> Files.exists(path(node)))
                .findFirst());
  }

  /** The {@code vfioN} that sysfs names under {@code vfio-dev}, when its device node exists. */
  private Optional<String> cdev(Path device) throws IOException {
    return entries(device.resolve("vfio-dev")).stream()
        .map(name -> "/dev/vfio/devices/" + name)
        .filter(node -> Files.exists(path(node)))
        .findFirst();
  }

  /** A sysfs id file such as {@code vendor}: {@code 0x15B3} becomes {@code 15b3}. */
  private static String pciId(Path file) {
    String id = read(file).orElse("").toLowerCase(Locale.ROOT);
    return id.startsWith("0x") ? id.substring(2) : id;
  }

  /** An id file that may be missing: {@link #pciId}, or empty. */
  private static Optional<String> optionalId(Path file) {
    String id = pciId(file);
    return id.isEmpty() ? Optional.empty() : Optional.of(id);
  }

  private static Optional<String> read(Path file) {
    try {
      return Optional.of(Files.readString(file, StandardCharsets.US_ASCII).trim());
    } catch (NoSuchFileException e) {
      return Optional.empty();
    } catch (IOException e) {
      log().warn("cannot read {}: {}", file, e.toString());
      return Optional.empty();
    }
  }

  /** Sysfs says "bound to", "member of" and "of type" with links; only their last name counts. */
  private static Optional<String> linkName(Path link) {
    if (!Files.isSymbolicLink(link)) {
      return Optional.empty();
    }
    try {
      return Optional.of(Files.readSymbolicLink(link).getFileName().toString());
    } catch (NoSuchFileException e) {
      return Optional.empty();
    } catch (IOException e) {
      log().warn("cannot read link {}: {}", link, e.toString());
      return Optional.empty();
    }
  }

  private static List<String> entries(Path directory) throws IOException {
    List<String> names = new ArrayList<>();
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(directory)) {
      for (Path entry : entries) {
        names.add(entry.getFileName().toString());
      }
    } catch (NoSuchFileException e) {
      return List.of();
    }
    names.sort(null);
    return names;
  }

  /**
   * The logger, looked up only when there is something to log. The command line uses this class,
   * and starting the logging (slf4j searches every jar of the class path for its provider) would
   * open the jars KernelBedIT orders the class path to leave shut, in every command of the test
   * bed, over 9p under TCG.
   */
  private static Logger log() {
    return LoggerFactory.getLogger(VfioDevices.class);
  }

  /** {@code absolute}, an absolute path on the node, below this reader's root. */
  private Path path(String absolute) {
    return root.resolve(absolute.substring(1));
  }
}
