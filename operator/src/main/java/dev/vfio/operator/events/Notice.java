package dev.vfio.operator.events;

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
}
