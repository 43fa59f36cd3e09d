package dev.vfio.bench;

import java.nio.file.Path;
import java.util.List;

/**
 * What one run of the suite is asked to do, read once from the command line.
 *
 * @param runs measured runs of every variant; the spread is taken over them
 * @param stateSizes device state sizes of the save and load paths, in bytes
 * @param transferBytes state of each device in the live transfer, in bytes
 * @param transferDevices device counts streaming in parallel in the live transfer
 * @param downtimeStateBytes state of the migrated device in the downtime benchmark
 * @param downtimeBytesPerSecond the simulated device's stream rate, so that copying dominates
 * @param dirtyBytesPerRound dirty rates of the downtime benchmark, per PRE_COPY round
 * @param snapshotCounts VfioSnapshot counts of the control-plane benchmark
 * @param nodes simulated nodes of the control-plane benchmark
 * @param jmhSeconds time of each JMH iteration, 0 for a single tiny iteration in-process
 * @param work where probes write their files; on the disk being measured
 * @param out where results and plots go
 * @param dropCaches whether reads start from a cold page cache (needs root)
 */
public record Settings(
    int runs,
    List<Long> stateSizes,
    long transferBytes,
    List<Integer> transferDevices,
    long downtimeStateBytes,
    long downtimeBytesPerSecond,
    List<Long> dirtyBytesPerRound,
    List<Integer> snapshotCounts,
    int nodes,
    int jmhSeconds,
    Path work,
    Path out,
    boolean dropCaches) {

  static final long MIB = 1L << 20;
  static final long GIB = 1L << 30;

  public Settings {
    stateSizes = List.copyOf(stateSizes);
    transferDevices = List.copyOf(transferDevices);
    dirtyBytesPerRound = List.copyOf(dirtyBytesPerRound);
    snapshotCounts = List.copyOf(snapshotCounts);
  }

  /** Size as the tables show it: {@code 256 MiB}, {@code 1 GiB}. */
  static String size(long bytes) {
    if (bytes >= GIB && bytes % GIB == 0) {
      return bytes / GIB + " GiB";
    }
    if (bytes >= MIB && bytes % MIB == 0) {
      return bytes / MIB + " MiB";
    }
    if (bytes >= 1024 && bytes % 1024 == 0) {
      return bytes / 1024 + " KiB";
    }
    return bytes + " B";
  }
}
