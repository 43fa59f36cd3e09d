package dev.vfio.operator.preflight;

import dev.vfio.api.v1alpha1.Reason;
import dev.vfio.api.v1alpha1.Unrecognized;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Why an operation cannot start, with a message that tells the user what to do. Nothing was
 * touched.
 */
public record Rejection(Reason reason, String message) {
  /**
   * Refuses a spec holding fields or values this operator does not know, which a CRD newer than the
   * operator lets the API server store. Refused rather than ignored: ignoring one drops a setting
   * the user asked for, a compression or a quiesce mode, and for device state that is a snapshot or
   * a switchover other than the one asked for.
   */
  public static Rejection unrecognized(List<Unrecognized> found) {
    return new Rejection(
        Reason.INVALID_SPEC,
        found.stream().map(u -> u.describe("this operator")).collect(Collectors.joining("; "))
            + "; the CRD may be newer than the operator: upgrade the operator, or keep to the fields and values it knows");
  }
}
