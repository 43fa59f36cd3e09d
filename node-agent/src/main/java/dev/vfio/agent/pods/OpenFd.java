package dev.vfio.agent.pods;

/**
 * One open file of a process.
 *
 * @param fd the fd number in that process
 * @param target what the file is
 * @param syspath for a device fd, the device's sysfs path from {@code fdinfo}
 *     ({@code vfio-device-syspath}, Linux 6.18 and later); null when the kernel does not say
 */
record OpenFd(int fd, FdTarget target, String syspath) {}
