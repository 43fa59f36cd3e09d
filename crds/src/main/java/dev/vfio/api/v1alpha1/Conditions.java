package dev.vfio.api.v1alpha1;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Computes a condition list from the previous one and a new observation: the condition keeps its
 * lastTransitionTime when its status did not flip, and a condition is never dropped.
 */
public final class Conditions {
  public static final String READY = "Ready";

  private Conditions() {}

  /** Returns a new list in which {@code next} replaces the condition of the same type. */
  public static List<Condition> with(
      List<Condition> previous, Condition next, long observedGeneration, Instant now) {
    List<Condition> result = new ArrayList<>();
    boolean replaced = false;
    for (Condition old : previous == null ? List.<Condition>of() : previous) {
      if (Objects.equals(old.getType(), next.getType())) {
        result.add(merge(old, next, observedGeneration, now));
        replaced = true;
      } else {
        result.add(old);
      }
    }
    if (!replaced) {
      result.add(merge(null, next, observedGeneration, now));
    }
    return result;
  }

  public static Condition find(List<Condition> conditions, String type) {
    if (conditions == null) {
      return null;
    }
    return conditions.stream().filter(c -> type.equals(c.getType())).findFirst().orElse(null);
  }

  private static Condition merge(Condition old, Condition next, long generation, Instant now) {
    Condition merged =
        new Condition(next.getType(), next.getStatus(), next.getReason(), next.getMessage());
    merged.setObservedGeneration(generation);
    boolean flipped = old == null || !Objects.equals(old.getStatus(), next.getStatus());
    merged.setLastTransitionTime(flipped ? now.toString() : old.getLastTransitionTime());
    return merged;
  }
}
