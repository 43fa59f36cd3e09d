package dev.vfio.agent.vfio;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A copy of the sysfs and /proc layout a node with VFIO devices has, as symlinks and small files
 * below a temporary root, shaped after what the kernel test bed and real hosts show:
 *
 * <ul>
 *   <li>{@code 0000:65:00.0}: mlx5_vfio_pci (a variant driver), ids 15b3:101e, group 12;
 *   <li>{@code 0000:66:00.0}: vfio-pci, group 13, with the cdev {@code vfio3} (6.6 and later);
 *   <li>{@code 0000:00:02.0}: bound to i915, in group 13 too; {@code 0000:00:03.0}: no driver;
 *   <li>mdev {@link #MDEV}: vfio_mig_test, type vfio_mig_test-mem, group 0, a {@code vfio-dev}
 *       entry but no cdev, as on 6.1;
 *   <li>process 100: container, group 0 and a device fd through it (6.1 style), and a log file;
 *       process 200: a device fd whose fdinfo names its sysfs path (6.18);
 *       process 300: a cdev fd.
 * </ul>
 */
final class SysfsFixture {
  static final String MDEV = "8a1c6b5e-3f0d-4c2a-9e7b-0d5f1a2b3c4d";

  private SysfsFixture() {}

  static Path create(Path root) throws IOException {
    pci(root, "0000:65:00.0", "mlx5_vfio_pci", "0x15b3", "0x101e", "12");
    pci(root, "0000:66:00.0", "vfio-pci", "0x1af4", "0x1041", "13");
    pci(root, "0000:00:02.0", "i915", "0x8086", "0x46a6", "13");
    pci(root, "0000:00:03.0", null, "0x8086", "0x1234", "14");
    Files.createDirectories(root.resolve("sys/devices/pci0000:00/0000:66:00.0/vfio-dev/vfio3"));
    Files.createDirectories(root.resolve("dev/vfio/devices"));
    Files.createFile(root.resolve("dev/vfio/devices/vfio3"));
    link(root.resolve("sys/class/vfio-dev/vfio3/device"),
        "../../../devices/pci0000:00/0000:66:00.0");

    Path parent = root.resolve("sys/devices/virtual/vfio_mig_test/vfio_mig_test");
    Files.createDirectories(parent.resolve("mdev_supported_types/vfio_mig_test-mem"));
    Path mdev = parent.resolve(MDEV);
    Files.createDirectories(mdev);
    Files.createDirectories(root.resolve("sys/bus/mdev/drivers/vfio_mig_test"));
    link(mdev.resolve("driver"), "../../../../../bus/mdev/drivers/vfio_mig_test");
    link(mdev.resolve("mdev_type"), "../mdev_supported_types/vfio_mig_test-mem");
    // 6.1 names a vfio-dev entry without creating /dev/vfio/devices/vfio0.
    Files.createDirectories(mdev.resolve("vfio-dev/vfio0"));
    group(root, mdev, "0");
    link(root.resolve("sys/bus/mdev/devices/" + MDEV),
        "../../../devices/virtual/vfio_mig_test/vfio_mig_test/" + MDEV);

    fd(root, 100, 3, "/dev/vfio/vfio");
    fd(root, 100, 4, "/dev/vfio/0");
    fd(root, 100, 5, "anon_inode:[vfio-device]");
    fd(root, 100, 6, "/var/log/workload.log");
    Files.writeString(root.resolve("proc/100/fdinfo/5"), "pos:\t0\nflags:\t02000002\n");
    fd(root, 200, 7, "anon_inode:[vfio-device]");
    Files.writeString(root.resolve("proc/200/fdinfo/7"), "pos:\t0\nflags:\t02000002\n"
        + "vfio-device-syspath: /sys/devices/pci0000:00/0000:65:00.0\n");
    fd(root, 300, 3, "/dev/vfio/devices/vfio3");
    return root;
  }

  private static void pci(Path root, String address, String driver, String vendor,
      String device, String group) throws IOException {
    Path dir = root.resolve("sys/devices/pci0000:00/" + address);
    Files.createDirectories(dir);
    Files.writeString(dir.resolve("vendor"), vendor + "\n");
    Files.writeString(dir.resolve("device"), device + "\n");
    if (driver != null) {
      Files.createDirectories(root.resolve("sys/bus/pci/drivers/" + driver));
      link(dir.resolve("driver"), "../../../bus/pci/drivers/" + driver);
    }
    group(root, dir, group);
    link(root.resolve("sys/bus/pci/devices/" + address), "../../../devices/pci0000:00/" + address);
  }

  private static void group(Path root, Path device, String group) throws IOException {
    Path groupDir = root.resolve("sys/kernel/iommu_groups/" + group);
    Files.createDirectories(groupDir.resolve("devices"));
    link(device.resolve("iommu_group"),
        device.relativize(groupDir).toString());
    link(groupDir.resolve("devices/" + device.getFileName()),
        groupDir.resolve("devices").relativize(device).toString());
  }

  private static void fd(Path root, int pid, int fd, String target) throws IOException {
    Files.createDirectories(root.resolve("proc/" + pid + "/fdinfo"));
    link(root.resolve("proc/" + pid + "/fd/" + fd), target);
  }

  private static void link(Path link, String target) throws IOException {
    Files.createDirectories(link.getParent());
    Files.createSymbolicLink(link, Path.of(target));
  }
}
