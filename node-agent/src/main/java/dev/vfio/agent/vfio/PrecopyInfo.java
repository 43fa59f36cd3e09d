package dev.vfio.agent.vfio;

/** {@code struct vfio_precopy_info}: what a PRE_COPY session has still to offer. */
public record PrecopyInfo(long initialBytes, long dirtyBytes) {
  public long pending() {
    return initialBytes + dirtyBytes;
  }
}
