package dev.vfio.agent.vfio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vfio.agent.devices.DeviceDetails;
import dev.vfio.agent.devices.NotVfioDeviceException;
import dev.vfio.agent.devices.VfioDevice;
import dev.vfio.agent.devices.VfioDevices;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Taking another process's fd, on the kernel this test runs on (pidfd_getfd needs Linux 5.6): every
 * way it can go wrong is refused with a message naming the device, and the fd it was pointed at
 * stays usable. The test bed proves the way it goes right, on a real VFIO device.
 */
class KernelDeviceAccessTest {
  private static final int SELF = (int) ProcessHandle.current().pid();

  @TempDir Path dir;

  final KernelDeviceAccess access = new KernelDeviceAccess(VfioDevices.ofSystem());

  @Test
  void anFdThatIsNotAVfioDeviceIsRefusedAndStaysOpen() throws Exception {
    Path file = Files.writeString(dir.resolve("workload.log"), "hello");
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
      int fd = fdOf(file);

      NotVfioDeviceException e =
          assertThrows(NotVfioDeviceException.class, () -> access.take("0000:65:00.0", SELF, fd));

      assertEquals(
          "0000:65:00.0: fd "
              + fd
              + " of process "
              + SELF
              + " is "
              + file
              + ", not a VFIO device fd",
          e.getMessage());
      ByteBuffer read = ByteBuffer.allocate(5);
      channel.read(read, 0);
      assertEquals("hello", new String(read.array()));
    }
  }

  @Test
  void anFdTheProcessDoesNotHaveFailsWithEbadf() {
    VfioException e =
        assertThrows(VfioException.class, () -> access.take("0000:65:00.0", SELF, 65_000));

    assertEquals(Errno.EBADF, e.error());
    assertEquals(
        "0000:65:00.0: pidfd_getfd(fd 65000 of process "
            + SELF
            + ") failed: EBADF"
            + " (errno 9): process "
            + SELF
            + " has no fd 65000",
        e.getMessage());
  }

  @Test
  void aProcessThatDoesNotExistFailsWithEsrch() {
    VfioException e =
        assertThrows(VfioException.class, () -> access.take("0000:65:00.0", Integer.MAX_VALUE, 3));

    assertEquals(Errno.ESRCH, e.error());
    assertTrue(e.getMessage().endsWith("there is no process " + Integer.MAX_VALUE), e.getMessage());
  }

  @Test
  void aDeviceWithNeitherGroupNorCdevCannotBeOpened() {
    VfioDevice orphan =
        new VfioDevice(
            "0000:65:00.0",
            VfioDevice.Kind.PCI,
            "vfio-pci",
            "15b3",
            "101e",
            Optional.empty(),
            Optional.empty(),
            Optional.empty(),
            Optional.empty(),
            DeviceDetails.UNKNOWN);

    NotVfioDeviceException e =
        assertThrows(NotVfioDeviceException.class, () -> access.open(orphan));

    assertEquals("0000:65:00.0 has no IOMMU group and no VFIO character device", e.getMessage());
  }

  /** The number this process's {@code file} is open as, from /proc/self/fd. */
  static int fdOf(Path file) throws IOException {
    try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
      return fds.filter(
              fd -> {
                try {
                  return Files.readSymbolicLink(fd).equals(file);
                } catch (IOException e) {
                  return false;
                }
              })
          .map(fd -> Integer.parseInt(fd.getFileName().toString()))
          .findFirst()
          .orElseThrow();
    }
  }
}
