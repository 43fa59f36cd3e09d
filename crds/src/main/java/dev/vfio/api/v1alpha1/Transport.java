package dev.vfio.api.v1alpha1;

/** How device state travels from source to target. */
public enum Transport {
  Auto, Direct, Storage
}
