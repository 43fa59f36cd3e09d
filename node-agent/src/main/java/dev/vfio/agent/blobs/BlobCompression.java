package dev.vfio.agent.blobs;

/** How the chunks of a blob are stored. Each chunk is compressed on its own. */
public enum BlobCompression {
  /** Chunks hold the device state as read from the device. */
  NONE,
  /** Each chunk is one independent zstd frame, so a damaged chunk does not spoil the next. */
  ZSTD
}
