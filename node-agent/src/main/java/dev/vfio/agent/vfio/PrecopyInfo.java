package dev.vfio.agent.vfio;

/**
 * {@code struct vfio_precopy_info}: what a PRE_COPY session has still to offer.
 *
 * @param initialBytes initial data still on the stream; leave PRE_COPY only once it is 0
 * @param dirtyBytes state the device changed since it was read
 * @param reinit {@code VFIO_PRECOPY_INFO_REINIT}: the device put new initial data on the stream
 *     (for instance after a reconfiguration), which {@code initialBytes} now counts however it went
 *     before, and {@code dirtyBytes} starts again from it. Only a device opted in to precopy info
 *     v2 sets it; {@link MigrationStateMachine} clears it for any other, whose flags field the
 *     kernel leaves as the caller passed it.
 */
public record PrecopyInfo(long initialBytes, long dirtyBytes, boolean reinit) {
  public long pending() {
    return initialBytes + dirtyBytes;
  }
}
