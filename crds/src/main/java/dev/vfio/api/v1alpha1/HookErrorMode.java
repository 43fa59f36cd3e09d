package dev.vfio.api.v1alpha1;

/** What a failing hook does to the operation. */
public enum HookErrorMode {
  Fail, Continue
}
