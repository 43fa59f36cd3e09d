package dev.vfio.agent.vfio;

/**
 * The type capability of a device region ({@code VFIO_REGION_INFO_CAP_TYPE}): which device-specific
 * region it is. Types are global per bus driver, subtypes per type; both are {@code u32}.
 */
public record RegionType(long type, long subtype) {
  /**
   * {@code VFIO_REGION_TYPE_MIGRATION_DEPRECATED} / {@code _SUBTYPE_MIGRATION_DEPRECATED}: the
   * migration region of the v1 protocol, which kernels before 5.18 and old vendor drivers offer
   * instead of the v2 migration features.
   */
  public static final RegionType MIGRATION_V1 =
      new RegionType(
          VfioAbi.REGION_TYPE_MIGRATION_DEPRECATED, VfioAbi.REGION_SUBTYPE_MIGRATION_DEPRECATED);
}
