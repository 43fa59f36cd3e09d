package dev.vfio.api.v1alpha1;

/** Byte counts as kubectl users read them. */
public final class ByteSizes {
  private ByteSizes() {}

  /** Renders a byte count the way kubectl users read sizes: 1.5Gi, 17Mi, 60B. */
  public static String human(long bytes) {
    String[] units = {"B", "Ki", "Mi", "Gi", "Ti"};
    double value = bytes;
    int unit = 0;
    while (value >= 1024 && unit < units.length - 1) {
      value /= 1024;
      unit++;
    }
    return unit == 0
        ? bytes + "B"
        : (value >= 10
                ? String.valueOf(Math.round(value))
                : String.format(java.util.Locale.ROOT, "%.1f", value))
            + units[unit];
  }
}
