package dev.vfio.agent.pods;

/**
 * One open file of a process.
 *
 * @param fd the fd number in that process
 * @param link what {@code /proc/PID/fd/N} links to, e.g. {@code /dev/vfio/12}
 * @param target what the file is, as far as VFIO cares
 * @param syspath for a device fd, the device's sysfs path from {@code fdinfo} ({@code
 *     vfio-device-syspath}, Linux 6.18 and later); null when the kernel does not say
 */
record OpenFd(int fd, String link, FdTarget target, String syspath) {}
