package dev.vfio.agent.vfio;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link KernelDataFd} on a FIFO, which is a stream like a data_fd (no offsets; a read takes what
 * is there), opened read-write so that one fd both writes and reads back. Real data_fds are proven
 * in the kernel test bed.
 */
class KernelDataFdTest {
  @TempDir Path dir;

  KernelDataFd fd;

  @BeforeEach
  void fifo() throws Exception {
    Path fifo = dir.resolve("stream");
    Process mkfifo = new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start();
    mkfifo.waitFor(10, TimeUnit.SECONDS);
    assertEquals(0, mkfifo.exitValue());
    fd = new KernelDataFd("0000:65:00.0", Libc.open(fifo.toString(), Libc.O_RDWR));
  }

  @AfterEach
  void close() {
    fd.close();
  }

  @Test
  void bytesGoThroughHeapAndDirectBuffersAdvancingTheirPositions() throws Exception {
    ByteBuffer heap = ByteBuffer.wrap("xxstate".getBytes(StandardCharsets.US_ASCII)).position(2);
    ByteBuffer direct = ByteBuffer.allocateDirect(16).position(3);

    assertEquals(5, fd.write(heap));
    assertEquals(7, heap.position());
    assertEquals(5, fd.read(direct));
    assertEquals(8, direct.position());

    ByteBuffer back = ByteBuffer.allocateDirect(8).put(direct.flip().position(3));
    assertEquals(5, fd.write(back.flip()));
    byte[] out = new byte[5];
    ByteBuffer into = ByteBuffer.wrap(new byte[9]).position(4);
    assertEquals(5, fd.read(into));
    into.get(4, out);
    assertArrayEquals("state".getBytes(StandardCharsets.US_ASCII), out);
  }

  @Test
  void anFdWithoutPrecopyInfoFailsWithEnotty() {
    VfioException e = assertThrows(VfioException.class, () -> fd.precopyInfo());

    assertEquals(Errno.ENOTTY, e.error());
  }

  @Test
  void aClosedFdFailsWithEbadfAndClosesOnce() {
    fd.close();
    fd.close();

    assertEquals(
        Errno.EBADF,
        assertThrows(VfioException.class, () -> fd.read(ByteBuffer.allocate(1))).error());
  }
}
