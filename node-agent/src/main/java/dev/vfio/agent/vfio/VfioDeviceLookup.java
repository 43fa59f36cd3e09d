package dev.vfio.agent.vfio;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Finds VFIO devices through sysfs and {@code /proc}, for the command line: every VFIO device on
 * the node, one device by any name an admin may use for it, and the device behind a process's
 * fd. Reads files only; opens no device.
 *
 * <p>A device is VFIO when it is a PCI function bound to vfio-pci or a vfio-pci variant driver
 * ({@code mlx5_vfio_pci}, {@code hisi_acc_vfio_pci}, ...; any device with a {@code vfio-dev}
 * directory, which VFIO drivers create from 6.1), or an mdev bound to a driver. Everything is read below a root
 * directory so that tests can run on a copy of the real layout.
 */
public final class VfioDeviceLookup {
  private static final Pattern PCI_ADDRESS =
      Pattern.compile("[0-9a-fA-F]{4}:[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\\.[0-7]");
  private static final Pattern SHORT_PCI_ADDRESS =
      Pattern.compile("[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\\.[0-7]");
  private static final Pattern UUID =
      Pattern.compile("[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");
  private static final Pattern CDEV_PATH = Pattern.compile("/dev/vfio/devices/(vfio[0-9]+)");
  private static final Pattern GROUP_PATH = Pattern.compile("/dev/vfio/([0-9]+)");
  /** What {@code /proc/PID/fd/N} shows for a device fd obtained through a group. */
  private static final String GROUP_DEVICE_FD = "anon_inode:[vfio-device]";
  /** The fdinfo line of a VFIO device fd, from Linux 6.18. */
  private static final String FDINFO_SYSPATH = "vfio-device-syspath:";
  private static final String NAMES = "give a PCI address (0000:65:00.0), an mdev UUID, "
      + "/dev/vfio/devices/vfioN, /dev/vfio/GROUP or the device's sysfs path";

  private final Path root;

  /** Reads {@code sys/}, {@code proc/} and {@code dev/} below {@code root}. */
  public VfioDeviceLookup(Path root) {
    this.root = root;
  }

  /** The running system's {@code /sys} and {@code /proc}. */
  public static VfioDeviceLookup ofSystem() {
    return new VfioDeviceLookup(Path.of("/"));
  }

  /** Every VFIO device on the node: PCI functions first, then mdevs, each by address. */
  public List<SysfsDevice> list() throws IOException {
    List<SysfsDevice> devices = new ArrayList<>();
    for (String address : entries(path("/sys/bus/pci/devices"))) {
      pciIfVfio(address).ifPresent(devices::add);
    }
    for (String uuid : entries(path("/sys/bus/mdev/devices"))) {
      try {
        devices.add(mdev(uuid));
      } catch (NotVfioDeviceException e) {
        // An mdev without a driver cannot be opened; it is not a device to list.
      }
    }
    devices.sort(Comparator.comparing(SysfsDevice::kind).thenComparing(SysfsDevice::address));
    return devices;
  }

  /**
   * The device an admin names: a PCI address (with or without its domain), an mdev UUID, a cdev
   * {@code /dev/vfio/devices/vfioN}, a group {@code /dev/vfio/N} holding one device, or a path
   * under {@code /sys}.
   *
   * @throws NotVfioDeviceException naming {@code name} and why it is not a VFIO device here
   */
  public SysfsDevice find(String name) throws IOException {
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
    Matcher cdev = CDEV_PATH.matcher(given);
    if (cdev.matches()) {
      Path device = path("/sys/class/vfio-dev/" + cdev.group(1) + "/device");
      if (!Files.exists(device)) {
        throw new NotVfioDeviceException(given + ": no such VFIO character device on this node");
      }
      return byName(given, device.toRealPath().getFileName().toString());
    }
    Matcher group = GROUP_PATH.matcher(given);
    if (group.matches()) {
      return onlyDeviceOf(given, List.of(group.group(1)));
    }
    if (given.startsWith("/sys/")) {
      Path device = path(given);
      if (!Files.exists(device)) {
        throw new NotVfioDeviceException(given + ": no such file");
      }
      return byName(given, device.toRealPath().getFileName().toString());
    }
    throw new NotVfioDeviceException(given + " is not a VFIO device: " + NAMES);
  }

  /**
   * The device behind fd {@code fd} of process {@code pid}: a cdev names it; a device fd from a
   * group is named by its fdinfo (Linux 6.18 and later) or else by the one VFIO device in the
   * groups the process holds open.
   *
   * @throws NotVfioDeviceException if there is no such process or fd, the fd is not a VFIO device
   *     fd, or the process's groups hold several devices and the fd does not say which
   */
  public SysfsDevice heldBy(int pid, int fd) throws IOException {
    String holder = "fd " + fd + " of process " + pid;
    String target;
    try {
      target = Files.readSymbolicLink(path("/proc/" + pid + "/fd/" + fd)).toString();
    } catch (NoSuchFileException e) {
      throw new NotVfioDeviceException(Files.isDirectory(path("/proc/" + pid))
          ? "process " + pid + " has no fd " + fd : "there is no process " + pid);
    } catch (AccessDeniedException e) {
      throw new NotVfioDeviceException("cannot read the fds of process " + pid
          + ": permission denied (run as root, or as the process's user)");
    }
    if (CDEV_PATH.matcher(target).matches()) {
      return find(target);
    }
    if (!target.equals(GROUP_DEVICE_FD)) {
      throw new NotVfioDeviceException(holder + " is " + target + ", not a VFIO device fd");
    }
    Optional<String> syspath = fdinfoSyspath(pid, fd);
    if (syspath.isPresent()) {
      return byName(holder, Path.of(syspath.get()).getFileName().toString());
    }
    return onlyDeviceOf(holder, groupsHeldBy(pid));
  }

  /** The IOMMU group's character device, e.g. {@code /dev/vfio/12}. */
  public static String groupPath(String group) {
    return "/dev/vfio/" + group;
  }

  private SysfsDevice byName(String given, String name) throws IOException {
    if (PCI_ADDRESS.matcher(name).matches()) {
      return pci(name);
    }
    if (UUID.matcher(name).matches()) {
      return mdev(name);
    }
    throw new NotVfioDeviceException(given + " is " + name + ", neither a PCI function nor an mdev");
  }

  private SysfsDevice pci(String address) throws IOException {
    Path device = path("/sys/bus/pci/devices/" + address);
    if (!Files.isDirectory(device)) {
      throw new NotVfioDeviceException("there is no PCI device " + address + " on this node");
    }
    Optional<SysfsDevice> vfio = pciIfVfio(address);
    if (vfio.isEmpty()) {
      throw new NotVfioDeviceException(linkName(device.resolve("driver"))
          .map(driver -> address + " is bound to " + driver + ", not to vfio-pci or a VFIO variant"
              + " driver")
          .orElse(address + " is bound to no driver; bind it to vfio-pci first"));
    }
    return vfio.get();
  }

  private Optional<SysfsDevice> pciIfVfio(String address) throws IOException {
    Path device = path("/sys/bus/pci/devices/" + address);
    Optional<String> driver = linkName(device.resolve("driver"));
    Optional<String> cdev = cdev(device);
    boolean vfioDev = Files.isDirectory(device.resolve("vfio-dev"));
    if (driver.isEmpty() || !(isVfioPciDriver(driver.get()) || vfioDev)) {
      return Optional.empty();
    }
    DeviceIdentity identity = new DeviceIdentity(address, driver.get(),
        pciId(device.resolve("vendor")), pciId(device.resolve("device")), group(device));
    return Optional.of(new SysfsDevice(SysfsDevice.Kind.PCI, identity, cdev));
  }

  private SysfsDevice mdev(String uuid) throws IOException {
    Path device = path("/sys/bus/mdev/devices/" + uuid);
    if (!Files.isDirectory(device)) {
      throw new NotVfioDeviceException("there is no mdev device " + uuid + " on this node");
    }
    String driver = linkName(device.resolve("driver")).orElseThrow(() ->
        new NotVfioDeviceException("mdev " + uuid + " is bound to no driver"));
    String type = linkName(device.resolve("mdev_type")).orElse("");
    DeviceIdentity identity = new DeviceIdentity(uuid, driver, "", type, group(device));
    return new SysfsDevice(SysfsDevice.Kind.MDEV, identity, cdev(device));
  }

  private SysfsDevice onlyDeviceOf(String given, List<String> groups) throws IOException {
    List<SysfsDevice> devices = new ArrayList<>();
    for (String group : groups) {
      for (String name : entries(path("/sys/kernel/iommu_groups/" + group + "/devices"))) {
        try {
          devices.add(byName(given, name));
        } catch (NotVfioDeviceException e) {
          // A group may hold devices that are not VFIO's, e.g. a PCI bridge.
        }
      }
    }
    if (devices.size() == 1) {
      return devices.get(0);
    }
    List<String> addresses = devices.stream().map(SysfsDevice::address).toList();
    throw new NotVfioDeviceException(devices.isEmpty()
        ? given + ": no VFIO device in IOMMU group(s) " + groups
        : given + " may be any of " + addresses + " (IOMMU group(s) " + groups
            + "): name the device too");
  }

  /** The IOMMU groups a process holds open as {@code /dev/vfio/N}. */
  private List<String> groupsHeldBy(int pid) throws IOException {
    TreeSet<String> groups = new TreeSet<>();
    try (DirectoryStream<Path> fds = Files.newDirectoryStream(path("/proc/" + pid + "/fd"))) {
      for (Path fd : fds) {
        try {
          Matcher group = GROUP_PATH.matcher(Files.readSymbolicLink(fd).toString());
          if (group.matches()) {
            groups.add(group.group(1));
          }
        } catch (NoSuchFileException e) {
          // Closed while we listed; it was not the group then.
        }
      }
    }
    return List.copyOf(groups);
  }

  private Optional<String> fdinfoSyspath(int pid, int fd) throws IOException {
    Path fdinfo = path("/proc/" + pid + "/fdinfo/" + fd);
    if (!Files.exists(fdinfo)) {
      return Optional.empty();
    }
    for (String line : Files.readAllLines(fdinfo, StandardCharsets.UTF_8)) {
      if (line.startsWith(FDINFO_SYSPATH)) {
        return Optional.of(line.substring(FDINFO_SYSPATH.length()).trim());
      }
    }
    return Optional.empty();
  }

  private static boolean isVfioPciDriver(String driver) {
    return driver.equals("vfio-pci") || driver.endsWith("_vfio_pci") || driver.endsWith("-vfio-pci");
  }

  private static String group(Path device) throws IOException {
    return linkName(device.resolve("iommu_group")).orElse("");
  }

  /**
   * The device's {@code vfioN} character device. Sysfs names it under {@code vfio-dev} from 6.1,
   * but {@code /dev/vfio/devices/vfioN} exists only from 6.6 (with CONFIG_VFIO_DEVICE_CDEV), so
   * the name counts only when the device node is there.
   */
  private Optional<String> cdev(Path device) throws IOException {
    return entries(device.resolve("vfio-dev")).stream()
        .filter(name -> Files.exists(path("/dev/vfio/devices/" + name)))
        .findFirst();
  }

  /** A sysfs id file such as {@code vendor}: {@code 0x15b3} becomes {@code 15b3}. */
  private static String pciId(Path file) throws IOException {
    if (!Files.exists(file)) {
      return "";
    }
    String id = Files.readString(file, StandardCharsets.US_ASCII).trim();
    return id.startsWith("0x") ? id.substring(2) : id;
  }

  private static Optional<String> linkName(Path link) throws IOException {
    if (!Files.isSymbolicLink(link)) {
      return Optional.empty();
    }
    return Optional.of(Files.readSymbolicLink(link).getFileName().toString());
  }

  private static List<String> entries(Path directory) throws IOException {
    if (!Files.isDirectory(directory)) {
      return List.of();
    }
    List<String> names = new ArrayList<>();
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(directory)) {
      for (Path entry : entries) {
        names.add(entry.getFileName().toString());
      }
    }
    names.sort(null);
    return names;
  }

  /** {@code absolute}, an absolute path on the node, below this lookup's root. */
  private Path path(String absolute) {
    return root.resolve(absolute.substring(1));
  }
}
