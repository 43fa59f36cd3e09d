package dev.vfio.agent.tasks;

/**
 * The work of one task kind. An operation either completes (reporting its results through the
 * context) or throws {@link TaskFailure} after it has rolled back everything it touched.
 */
public interface NodeOperation {
  void run(TaskContext context) throws TaskFailure, InterruptedException;

  /** Device addresses the operation drives; the worker serializes tasks that share one. */
  default java.util.List<String> devices(TaskContext context) {
    return context.task().getSpec().getDevices() == null
        ? java.util.List.of()
        : context.task().getSpec().getDevices();
  }
}
