package dev.vfio.api.v1alpha1;

/** The kinds of node-local work an agent performs. */
public enum TaskOperation {
  Save, Load, Send, Receive, DeleteBlobs
}
