package dev.vfio.agent.vfio;

import java.util.ArrayList;
import java.util.List;

/** The {@code VFIO_DEVICE_FEATURE_MIGRATION} flags a device advertises. */
public record MigrationFlags(long bits) {
  public static final long STOP_COPY = 1L;
  public static final long P2P = 1L << 1;
  public static final long PRE_COPY = 1L << 2;
  public static final MigrationFlags NONE = new MigrationFlags(0);

  public boolean stopCopy() {
    return (bits & STOP_COPY) != 0;
  }

  public boolean p2p() {
    return (bits & P2P) != 0;
  }

  public boolean preCopy() {
    return (bits & PRE_COPY) != 0;
  }

  /** A device can be migrated at all only with STOP_COPY; the other flags are optional extras. */
  public boolean migratable() {
    return stopCopy();
  }

  /** Whether the device implements {@code state}, the way the kernel decides it. */
  public boolean supports(MigrationState state) {
    return switch (state) {
      case ERROR, STOP, RUNNING, STOP_COPY, RESUMING -> stopCopy();
      case RUNNING_P2P -> stopCopy() && p2p();
      case PRE_COPY -> stopCopy() && preCopy();
      case PRE_COPY_P2P -> stopCopy() && preCopy() && p2p();
    };
  }

  /** Names as they appear in the API: STOP_COPY, P2P, PRE_COPY. */
  public List<String> names() {
    List<String> names = new ArrayList<>();
    if (stopCopy()) {
      names.add("STOP_COPY");
    }
    if (p2p()) {
      names.add("P2P");
    }
    if (preCopy()) {
      names.add("PRE_COPY");
    }
    return names;
  }

  public static MigrationFlags fromNames(List<String> names) {
    long bits = 0;
    for (String name : names == null ? List.<String>of() : names) {
      bits |=
          switch (name) {
            case "STOP_COPY" -> STOP_COPY;
            case "P2P" -> P2P;
            case "PRE_COPY" -> PRE_COPY;
            default -> throw new IllegalArgumentException("unknown migration flag " + name);
          };
    }
    return new MigrationFlags(bits);
  }
}
