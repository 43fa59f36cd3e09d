package dev.vfio.api.v1alpha1;

/** Compression of the device state inside a blob. */
public enum Compression {
  None, Zstd
}
