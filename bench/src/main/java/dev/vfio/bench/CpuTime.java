package dev.vfio.bench;

import java.lang.management.ManagementFactory;

/**
 * CPU time of this JVM. On a shared machine wall time depends on the neighbours; the CPU a variant
 * burns per byte does not, so it is recorded beside the throughput.
 */
final class CpuTime {
  private CpuTime() {}

  /** Nanoseconds of CPU all threads of this JVM used so far. */
  static long process() {
    return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
        .getProcessCpuTime();
  }
}
