package dev.vfio.agent.vfio;

import java.io.Closeable;
import java.nio.ByteBuffer;

/**
 * A migration {@code data_fd} with the kernel's semantics, unchanged: it is a stream, reads and
 * writes may be short, and errors carry the errno.
 *
 * <ul>
 *   <li>{@link #read} returns the number of bytes read, 0 for {@code read() == 0} (permanent end of
 *       stream in STOP_COPY, a temporary "nothing now" in PRE_COPY for some drivers), and throws
 *       {@link VfioException} with ENOMSG for the PRE_COPY temporary end, ENODEV once the session
 *       was ended by an arc, a reset or a close.
 *   <li>{@link #write} may write fewer bytes than offered; callers loop.
 *   <li>Like {@link java.nio.channels.ReadableByteChannel} and its writable twin, both advance the
 *       buffer's position by the number of bytes transferred.
 *   <li>{@link #precopyInfo} is {@code VFIO_MIG_GET_PRECOPY_INFO}: EINVAL outside PRE_COPY, ENOTTY
 *       where the kernel lacks it. Its REINIT flag is as the kernel left it: meaningful only on a
 *       device opted in to precopy info v2 ({@link MigrationDevice#enablePrecopyInfoV2}).
 * </ul>
 */
public interface DataFd extends Closeable {
  int read(ByteBuffer dst) throws VfioException;

  int write(ByteBuffer src) throws VfioException;

  PrecopyInfo precopyInfo() throws VfioException;

  @Override
  void close();
}
