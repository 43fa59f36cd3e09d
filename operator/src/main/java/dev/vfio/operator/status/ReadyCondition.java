package dev.vfio.operator.status;

import dev.vfio.api.v1alpha1.Condition;
import dev.vfio.api.v1alpha1.Conditions;
import dev.vfio.api.v1alpha1.Reason;
import io.fabric8.kubernetes.api.model.HasMetadata;
import java.time.Instant;
import java.util.List;

/**
 * The Ready condition every status calculator writes, observed at the owner's generation: each
 * status class sets its {@code observedGeneration} to {@link #generation} and its conditions to
 * {@link #with}.
 */
public final class ReadyCondition {
  private ReadyCondition() {}

  /**
   * The generation a status computed from {@code owner} reflects; 0 before the API server set one.
   */
  public static long generation(HasMetadata owner) {
    Long generation = owner.getMetadata().getGeneration();
    return generation == null ? 0 : generation;
  }

  /** {@code previous} with Ready replaced by this observation of {@code owner}. */
  public static List<Condition> with(
      HasMetadata owner,
      List<Condition> previous,
      String status,
      Reason reason,
      String message,
      Instant now) {
    return Conditions.with(
        previous,
        new Condition(Conditions.READY, status, reason.wire(), message),
        generation(owner),
        now);
  }
}
