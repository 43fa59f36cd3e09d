package dev.vfio.operator.events;

import dev.vfio.api.v1alpha1.Reason;

/**
 * An Event to record about an object, as {@code kubectl describe} lists it: type, reason, message.
 */
public record Notice(Type type, String reason, String message) {
  /** The two types core/v1 Events have. */
  public enum Type {
    Normal,
    Warning
  }

  public static Notice normal(String reason, String message) {
    return new Notice(Type.Normal, reason, message);
  }

  public static Notice warning(String reason, String message) {
    return new Notice(Type.Warning, reason, message);
  }

  public static Notice normal(Reason reason, String message) {
    return normal(reason.wire(), message);
  }

  public static Notice warning(Reason reason, String message) {
    return warning(reason.wire(), message);
  }
}
