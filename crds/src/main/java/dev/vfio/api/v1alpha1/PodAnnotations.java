package dev.vfio.api.v1alpha1;

/**
 * The annotations vfio-operator reads and writes on users' pods: its contract with workloads
 * (docs/workload-contract.md). Both components take the keys from here.
 */
public final class PodAnnotations {
  /**
   * Set by the user on a pod that may receive device state; without it nothing restores into the
   * pod.
   */
  public static final String RESTORE_TARGET = "vfio.dev/restore-target";

  /**
   * Written on a restore or migration target when its devices received state ({@code Succeeded}) or
   * when that failed ({@code Failed}); the workload can read it through the downward API.
   */
  public static final String RESTORE_STATUS = "vfio.dev/restore-status";

  private PodAnnotations() {}
}
